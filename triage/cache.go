package triage

import "context"

// CacheKey identifies one cached model answer: the message, the model
// ("openai/gpt-4o-mini") and the prompt version it was asked with. A new
// prompt version or model never reuses an old answer.
type CacheKey struct {
	MessageID     string
	Model         string
	PromptVersion string
}

// CacheEntry is a cached model answer: the validated JSON the model returned
// and the tokens that answer cost when it was billed.
type CacheEntry struct {
	Response string
	Usage    Usage
}

// Cache keeps validated model answers so that classifying the same message
// again (reopening the app, re-triaging) never bills a second model call.
// db.DB implements it over the llm_cache table.
type Cache interface {
	// LLMCacheGet returns the entry for k and whether there was one; an
	// error means the cache could not be read (the caller asks the model).
	LLMCacheGet(ctx context.Context, k CacheKey) (CacheEntry, bool, error)
	// LLMCachePut stores or replaces the entry for k.
	LLMCachePut(ctx context.Context, k CacheKey, e CacheEntry) error
}
