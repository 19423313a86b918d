package triage

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"smista/mail"
)

// Combined runs an LLM classifier and the offline classifier on every
// email. The result is the LLM's (or its offline fallback); when the two
// disagree on the intent it is marked Disagree, so no ticket follows.
type Combined struct {
	llm     Classifier
	offline Classifier
}

var _ Classifier = (*Combined)(nil)

// NewCombined returns a classifier that always runs both llm and offline.
func NewCombined(llm, offline Classifier) *Combined {
	return &Combined{llm: llm, offline: offline}
}

// Classify returns the LLM's result with the offline classifier's flags
// merged in, the offline summary, language and draft filling any the model
// left empty, and Disagree plus the note "llm intent X, offline intent Y"
// when the intents differ. When the LLM fails without a result the offline
// result is returned with the note "llm fallback: <error>". The offline
// classifier runs once per email, and serves as the fallback too. It fails
// when the offline classifier fails or ctx is done.
func (cb *Combined) Classify(ctx context.Context, m *mail.Message, c Context) (Result, error) {
	off, err := cb.offline.Classify(ctx, m, c)
	if err != nil {
		return Result{}, fmt.Errorf("combined classify: offline: %w", err)
	}
	var r Result
	if l, ok := cb.llm.(*LLM); ok {
		r, err = l.classify(ctx, m, c, &off)
	} else {
		r, err = cb.llm.Classify(ctx, m, c)
	}
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("combined classify: %w", ctx.Err())
		}
		return withFallback(off, err.Error(), Usage{}), nil
	}
	// a fallback result is the offline one: merging it again changes nothing
	r.Flags, r.ruleFlags = MergeFlags(r.Flags, off.Flags), off.ruleFlags
	if r.Summary == "" {
		r.Summary = off.Summary
	}
	if r.Language == "" {
		r.Language = off.Language
	}
	if r.Draft == "" {
		r.Draft = off.Draft
	}
	if r.Intent != off.Intent {
		r.Disagree = true
		r.Notes = append(r.Notes, fmt.Sprintf("llm intent %s, offline intent %s", r.Intent, off.Intent))
	}
	return r, nil
}

// ClassifierConfig is what main knows about the classifier it wants: the
// [triage] section of the configuration, the API key read from the
// environment, and the store as cache.
type ClassifierConfig struct {
	// Provider is "offline" (or ""), "openai", "anthropic" or "ollama".
	Provider string
	Model    string
	BaseURL  string
	// APIKey is the key's value, never logged.
	APIKey      string
	Timeout     time.Duration
	Concurrency int
	// HTTPClient carries model calls; nil means a plain client.
	HTTPClient *http.Client
	// Cache keeps model answers; nil disables caching.
	Cache Cache
}

// NewClassifier returns the offline classifier for the "offline" provider
// (or ""), and otherwise the LLM classifier combined with the offline one
// (NewCombined), the offline one also serving as the LLM's fallback. It
// fails like NewOffline and NewLLM, and makes no network call.
func NewClassifier(cfg ClassifierConfig) (Classifier, error) {
	off, err := NewOffline()
	if err != nil {
		return nil, fmt.Errorf("new classifier: %w", err)
	}
	if cfg.Provider == "" || cfg.Provider == "offline" {
		return off, nil
	}
	l, err := NewLLM(LLMConfig{
		Provider:    cfg.Provider,
		Model:       cfg.Model,
		BaseURL:     cfg.BaseURL,
		APIKey:      cfg.APIKey,
		Timeout:     cfg.Timeout,
		Concurrency: cfg.Concurrency,
		HTTPClient:  cfg.HTTPClient,
		Cache:       cfg.Cache,
		Offline:     off,
	})
	if err != nil {
		return nil, fmt.Errorf("new classifier: %w", err)
	}
	return NewCombined(l, off), nil
}
