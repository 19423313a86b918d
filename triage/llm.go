package triage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/anthropic"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"

	"smista/mail"
)

// Errors of the LLM classifier. Their texts never include the API key.
var (
	// ErrUnknownProvider is returned by NewLLM for a provider other than
	// openai, anthropic or ollama.
	ErrUnknownProvider = errors.New("unknown llm provider")
	// ErrNoModel is returned by NewLLM when no model name is configured.
	ErrNoModel = errors.New("no model configured (set triage.model)")
	// ErrNoAPIKey is returned by NewLLM when the provider needs a key and
	// none was given.
	ErrNoAPIKey = errors.New("no API key (set the environment variable named by triage.api_key_env)")
	// ErrBadBaseURL is returned by NewLLM for a base URL that is not an
	// absolute http(s) URL.
	ErrBadBaseURL = errors.New("base_url must be an absolute http or https URL")
	// ErrLLMFailed is returned by Classify when the model gave no usable
	// answer and no offline classifier is configured to fall back on.
	ErrLLMFailed = errors.New("llm gave no usable answer")
)

// The providers NewLLM knows.
const (
	ProviderOpenAI    = "openai"
	ProviderAnthropic = "anthropic"
	ProviderOllama    = "ollama"
)

// Defaults of LLMConfig.
const (
	DefaultLLMTimeout     = 60 * time.Second
	DefaultLLMConcurrency = 4
	DefaultLLMBackoff     = time.Second
	// maxBackoff bounds a server's Retry-After: a classification is not
	// worth a long wait; the offline result is there.
	maxBackoff = 5 * time.Second
	// maxEcho bounds the invalid answer sent back with the correction.
	maxEcho = 2 << 10
)

// Default endpoints, set explicitly so that langchaingo never picks a URL
// or key up from the process environment behind the configuration's back.
const (
	defaultOpenAIURL    = "https://api.openai.com/v1"
	defaultAnthropicURL = "https://api.anthropic.com/v1"
	defaultOllamaURL    = "http://127.0.0.1:11434"
)

// LLMConfig configures an LLM classifier.
type LLMConfig struct {
	// Provider is "openai" (also any OpenAI-compatible server through
	// BaseURL: vLLM, llama.cpp, LM Studio), "anthropic" or "ollama".
	Provider string
	// Model is the provider's model name, e.g. "gpt-4o-mini".
	Model string
	// BaseURL overrides the provider's endpoint. For openai and anthropic
	// it includes the version path ("http://localhost:8080/v1"); for
	// ollama it is the server root ("http://127.0.0.1:11434").
	BaseURL string
	// APIKey is the key itself (main reads it from the environment
	// variable named by triage.api_key_env). It goes only into the
	// request's auth header, never into errors, notes or logs.
	APIKey string
	// Timeout bounds each model call (default 60s).
	Timeout time.Duration
	// Concurrency bounds the calls in flight across goroutines (default 4).
	Concurrency int
	// Backoff is the wait before the one retry after a 429 or 5xx
	// (default 1s); a Retry-After up to 5s from the server wins.
	Backoff time.Duration
	// HTTPClient carries the requests (tests point it at a fake server);
	// nil means a plain client.
	HTTPClient *http.Client
	// Cache keeps validated answers per message, model and prompt version;
	// nil disables caching.
	Cache Cache
	// Offline is the classifier used when the model gives no usable
	// answer; nil makes Classify return ErrLLMFailed instead.
	Offline Classifier
}

// LLM classifies one email per model call through langchaingo. It is safe
// for concurrent use; at most Concurrency calls are in flight.
type LLM struct {
	// model asks for structured output (llm_schema.go): through its
	// client options (openai), opts (anthropic's tool) and fields (the
	// request body fields langchaingo cannot express); plainModel is the
	// same provider without any of it.
	model, plainModel llms.Model
	name              string
	opts              []llms.CallOption
	fields            bodyFields
	timeout           time.Duration
	backoff           time.Duration
	sem               chan struct{}
	cache             Cache
	offline           Classifier
	// plain is set once the server refused structured output with a 400
	// and then answered without it (an OpenAI-compatible server without
	// json_schema): later calls skip it and its wasted request.
	plain atomic.Bool
}

var _ Classifier = (*LLM)(nil)

// NewLLM builds an LLM classifier. It fails with ErrUnknownProvider,
// ErrNoModel, ErrNoAPIKey or ErrBadBaseURL; it makes no network call.
// Long: one case per provider, each a few lines.
func NewLLM(cfg LLMConfig) (*LLM, error) {
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, fmt.Errorf("new llm: %w", ErrNoModel)
	}
	l := &LLM{
		name:    cfg.Provider + "/" + cfg.Model,
		timeout: cfg.Timeout,
		backoff: cfg.Backoff,
		cache:   cfg.Cache,
		offline: cfg.Offline,
	}
	if l.timeout <= 0 {
		l.timeout = DefaultLLMTimeout
	}
	if l.backoff <= 0 {
		l.backoff = DefaultLLMBackoff
	}
	n := cfg.Concurrency
	if n <= 0 {
		n = DefaultLLMConcurrency
	}
	l.sem = make(chan struct{}, n)

	base := cfg.BaseURL
	if base != "" {
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("new llm: %w", ErrBadBaseURL)
		}
	}
	hc := observedClient(cfg.HTTPClient, cfg.Provider == ProviderOllama, cfg.APIKey)

	var err error
	switch cfg.Provider {
	case ProviderOpenAI:
		if base == "" {
			if cfg.APIKey == "" {
				return nil, fmt.Errorf("new llm: openai: %w", ErrNoAPIKey)
			}
			base = defaultOpenAIURL
		}
		key := cfg.APIKey
		if key == "" {
			// A local OpenAI-compatible server usually wants no key, but
			// langchaingo refuses an empty one (and would read
			// OPENAI_API_KEY from the environment instead).
			key = "none"
		}
		common := []openai.Option{openai.WithModel(cfg.Model), openai.WithToken(key),
			openai.WithBaseURL(base), openai.WithHTTPClient(hc)}
		// the response format is a client option in langchaingo: one
		// client with it, one without for servers that refuse it
		if l.model, err = openai.New(append(common, openai.WithResponseFormat(openAIResponseFormat()))...); err == nil {
			l.plainModel, err = openai.New(common...)
		}
	case ProviderAnthropic:
		if cfg.APIKey == "" {
			return nil, fmt.Errorf("new llm: anthropic: %w", ErrNoAPIKey)
		}
		if base == "" {
			base = defaultAnthropicURL
		}
		// Anthropic has no JSON mode: one tool whose input is the answer,
		// forced by tool_choice (a body field); without it, the system
		// prompt asks for the bare object and parseOutput tolerates prose
		l.model, err = anthropic.New(anthropic.WithModel(cfg.Model), anthropic.WithToken(cfg.APIKey),
			anthropic.WithBaseURL(base), anthropic.WithHTTPClient(hc))
		l.plainModel = l.model
		l.opts = []llms.CallOption{llms.WithTools([]llms.Tool{anthropicTool()})}
	case ProviderOllama:
		if base == "" {
			base = defaultOllamaURL
		}
		// format "json" without the schema; the schema replaces it in
		// the body of a structured call
		l.model, err = ollama.New(ollama.WithModel(cfg.Model), ollama.WithServerURL(base),
			ollama.WithHTTPClient(hc), ollama.WithFormat("json"))
		l.plainModel = l.model
	default:
		return nil, fmt.Errorf("new llm %q: %w", cfg.Provider, ErrUnknownProvider)
	}
	if err == nil {
		l.fields, err = structuredFields(cfg.Provider)
	}
	if err != nil {
		// langchaingo's constructor errors name missing settings, never
		// the key's value.
		return nil, fmt.Errorf("new llm: %s: %w", cfg.Provider, err)
	}
	return l, nil
}

// Name returns the model name used in results and cache keys, e.g.
// "openai/gpt-4o-mini".
func (l *LLM) Name() string { return l.name }

// Classify asks the model about one email, with the provider's structured
// output (llm_schema.go). The deterministic flags are always merged into
// the model's (a model may add flags, never remove them). An invalid
// answer is retried once with a correction; a 429 or 5xx once after a
// short backoff; a 400 to a structured request once without structured
// output; a timeout is not retried. When no usable answer comes, the
// offline classifier's result is returned with the note "llm fallback:
// <reason>" and the tokens already spent in its Usage. A cached answer
// for the same message, model and PromptVersion is reused without any
// call; its Usage is what that answer cost when it was billed. Classify
// fails only when ctx is done, or when there is no offline classifier to
// fall back on (ErrLLMFailed).
func (l *LLM) Classify(ctx context.Context, m *mail.Message, c Context) (Result, error) {
	return l.classify(ctx, m, c, nil)
}

// classify is Classify with the offline result of m when the caller
// already has it (Combined): the one fallback path then uses it instead of
// running the offline classifier again, and the model's flags are left for
// the caller to merge with the offline result's deterministic ones.
// Long: the retry state machine (transport, JSON mode, output) in one loop.
func (l *LLM) classify(ctx context.Context, m *mail.Message, c Context, off *Result) (Result, error) {
	// Examples are part of the question: an answer given with other
	// examples (before a correction) is not reused.
	key := CacheKey{MessageID: m.ID, Model: l.name, PromptVersion: PromptVersion + examplesDigest(c.Examples)}
	if l.cache != nil && m.ID != "" {
		// A cache read error only costs a model call.
		if e, ok, err := l.cache.LLMCacheGet(ctx, key); err == nil && ok {
			if out, err := parseOutput(e.Response); err == nil {
				return l.result(m, c, out, e.Usage, off == nil), nil
			}
		}
	}

	select {
	case l.sem <- struct{}{}:
		defer func() { <-l.sem }()
	case <-ctx.Done():
		return Result{}, fmt.Errorf("llm classify: %w", ctx.Err())
	}

	boundary, err := newBoundary()
	if err != nil {
		return Result{}, fmt.Errorf("llm classify: %w", err)
	}
	msgs := []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, systemPrompt),
		llms.TextParts(llms.ChatMessageTypeHuman, examplesPrompt(c.Examples, boundary)+userPrompt(m, boundary)),
	}

	var usage Usage
	retriedTransport, retriedOutput := false, false
	plain, triedPlain := l.plain.Load(), false
	for {
		answer, u, err := l.call(ctx, msgs, plain)
		usage.InputTokens += u.InputTokens
		usage.OutputTokens += u.OutputTokens
		var ce *callError
		status := 0
		if errors.As(err, &ce) {
			status = ce.status
		}
		if triedPlain {
			triedPlain = false
			if status != http.StatusBadRequest {
				// structured output was the problem: stop asking for it.
				l.plain.Store(true)
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return Result{}, fmt.Errorf("llm classify: %w", ctx.Err())
			}
			if status == http.StatusBadRequest && !plain {
				// Maybe the server does not know structured output
				// (an older OpenAI-compatible server): ask once without it.
				plain, triedPlain = true, true
				continue
			}
			if ce != nil && ce.retryable() && !retriedTransport {
				retriedTransport = true
				if err := sleep(ctx, ce.wait(l.backoff)); err != nil {
					return Result{}, fmt.Errorf("llm classify: %w", err)
				}
				continue
			}
			return l.fallback(ctx, m, c, off, err.Error(), usage)
		}
		out, perr := parseOutput(answer)
		if perr == nil {
			if l.cache != nil && m.ID != "" {
				// A failed write only means a later call is billed again.
				_ = l.cache.LLMCachePut(ctx, key, CacheEntry{Response: out.json(), Usage: usage})
			}
			return l.result(m, c, out, usage, off == nil), nil
		}
		if retriedOutput {
			return l.fallback(ctx, m, c, off, "invalid output twice: "+perr.Error(), usage)
		}
		retriedOutput = true
		echo, _ := truncateUTF8(answer, maxEcho)
		if strings.TrimSpace(echo) == "" {
			echo = "(empty)"
		}
		msgs = append(msgs,
			llms.TextParts(llms.ChatMessageTypeAI, echo),
			llms.TextParts(llms.ChatMessageTypeHuman, fmt.Sprintf(correction, perr)))
	}
}

// result turns a validated answer into a Result; with rules set, the
// deterministic flags of m are merged in.
func (l *LLM) result(m *mail.Message, c Context, out llmOutput, u Usage, rules bool) Result {
	r := Result{
		Intent:     out.Intent,
		Confidence: out.Confidence,
		Priority:   out.Priority,
		Summary:    out.Summary,
		Language:   out.Language,
		Flags:      out.Flags,
		Draft:      out.Draft,
		Model:      l.name,
		Usage:      u,
	}
	if rules {
		r.Flags, r.ruleFlags = MergeFlags(Flags(m, c), r.Flags), true
	}
	return r
}

// fallback returns the offline result — off when the caller has it, else
// the configured offline classifier's — with the reason the model's answer
// was not used. Tokens already spent are reported in Usage.
func (l *LLM) fallback(ctx context.Context, m *mail.Message, c Context, off *Result, reason string, u Usage) (Result, error) {
	if off == nil {
		if l.offline == nil {
			return Result{}, fmt.Errorf("llm classify: %s: %w", reason, ErrLLMFailed)
		}
		r, err := l.offline.Classify(ctx, m, c)
		if err != nil {
			return Result{}, fmt.Errorf("llm classify: offline fallback: %w", err)
		}
		off = &r
	}
	return withFallback(*off, reason, u), nil
}

// withFallback is the one way a fallback result is made: the offline
// result, its flags and notes copied, noted "llm fallback: <reason>", with
// the tokens the model already cost.
func withFallback(off Result, reason string, u Usage) Result {
	off.Flags = slices.Clone(off.Flags)
	off.Notes = append(slices.Clone(off.Notes), "llm fallback: "+reason)
	off.Usage.InputTokens += u.InputTokens
	off.Usage.OutputTokens += u.OutputTokens
	return off
}

// call makes one model call bounded by the timeout and reports the answer
// text and its token usage. Failures are *callError values whose texts
// carry a status or a class, never the provider's message (which could
// echo request details).
func (l *LLM) call(ctx context.Context, msgs []llms.MessageContent, plain bool) (string, Usage, error) {
	info := &callInfo{fields: l.fields}
	model, opts := l.model, l.opts
	if plain {
		info.fields, model, opts = nil, l.plainModel, nil
	}
	cctx, cancel := context.WithTimeout(context.WithValue(ctx, callInfoKey{}, info), l.timeout)
	defer cancel()
	resp, err := model.GenerateContent(cctx, msgs, opts...)
	var text, tool []string
	var u Usage
	if err == nil && resp != nil {
		for _, ch := range resp.Choices {
			if ch == nil {
				continue
			}
			for _, tc := range ch.ToolCalls {
				if tc.FunctionCall != nil && tc.FunctionCall.Name == schemaName {
					tool = append(tool, tc.FunctionCall.Arguments)
				}
			}
			if ch.Content != "" {
				text = append(text, ch.Content)
			}
			if u == (Usage{}) {
				u = usageOf(ch.GenerationInfo)
			}
		}
	}
	switch {
	case info.status >= 400:
		// Checked first: ollama's client returns no error for an error
		// status with an empty body.
		return "", u, &callError{status: info.status, retryAfter: info.retryAfter}
	case (err != nil || len(text)+len(tool) == 0) && ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded):
		// ollama's client also ends a body cut by the deadline without
		// an error: an empty answer at the deadline is a timeout.
		return "", u, &callError{class: "timeout after " + l.timeout.String()}
	case err != nil:
		return "", u, &callError{class: "request failed"}
	}
	if len(tool) > 0 {
		// the forced tool's input is the answer (anthropic), whatever
		// text came with it
		text = tool
	}
	return strings.Join(text, "\n"), u, nil
}

// usageOf reads token counts from langchaingo's GenerationInfo: openai and
// ollama report PromptTokens/CompletionTokens, anthropic
// InputTokens/OutputTokens.
func usageOf(info map[string]any) Usage {
	num := func(keys ...string) int {
		for _, k := range keys {
			switch v := info[k].(type) {
			case int:
				if v > 0 {
					return v
				}
			case int64:
				if v > 0 {
					return int(v)
				}
			case float64:
				if v > 0 {
					return int(v)
				}
			}
		}
		return 0
	}
	return Usage{
		InputTokens:  num("PromptTokens", "InputTokens"),
		OutputTokens: num("CompletionTokens", "OutputTokens"),
	}
}

// callError is a failed model call: an HTTP status or a class of failure.
type callError struct {
	status     int
	retryAfter time.Duration
	class      string
}

func (e *callError) Error() string {
	if e.status != 0 {
		return "http " + strconv.Itoa(e.status)
	}
	return e.class
}

// retryable reports whether one more try may help: rate limiting and
// server errors are often transient.
func (e *callError) retryable() bool {
	return e.status == http.StatusTooManyRequests || e.status >= 500
}

func (e *callError) wait(def time.Duration) time.Duration {
	if e.retryAfter > 0 && e.retryAfter <= maxBackoff {
		return e.retryAfter
	}
	return min(def, maxBackoff)
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
