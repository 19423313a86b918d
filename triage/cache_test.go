package triage_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"smista/db"
	"smista/mail"
	"smista/triage"
)

// memCache is an in-memory triage.Cache.
type memCache struct {
	mu   sync.Mutex
	m    map[triage.CacheKey]triage.CacheEntry
	puts int
	err  error
}

func (c *memCache) LLMCacheGet(ctx context.Context, k triage.CacheKey) (triage.CacheEntry, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return triage.CacheEntry{}, false, c.err
	}
	e, ok := c.m[k]
	return e, ok, nil
}

func (c *memCache) LLMCachePut(ctx context.Context, k triage.CacheKey, e triage.CacheEntry) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[triage.CacheKey]triage.CacheEntry{}
	}
	c.m[k] = e
	c.puts++
	return c.err
}

func TestLLMCache(t *testing.T) {
	cases := map[string]struct {
		plan      []reply
		first     string // message id of the first classification
		second    string // and of the second
		cacheErr  error
		wantCalls int
	}{
		"same message: zero calls the second time": {plan: []reply{{content: validJSON}}, first: "m1", second: "m1", wantCalls: 1},
		"another message is asked":                 {plan: []reply{{content: validJSON}}, first: "m1", second: "m2", wantCalls: 2},
		"a fallback is not cached":                 {plan: []reply{{status: 500}}, first: "m1", second: "m1", wantCalls: 4},
		"no message id, no caching":                {plan: []reply{{content: validJSON}}, first: "", second: "", wantCalls: 2},
		"a broken cache costs a call, not a result": {plan: []reply{{content: validJSON}}, first: "m1", second: "m1",
			cacheErr: errors.New("disk on fire"), wantCalls: 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFake(t, openaiWire, tc.plan...)
			cache := &memCache{err: tc.cacheErr}
			cfg := f.config("test-model", newStub())
			cfg.Cache = cache
			l, err := triage.NewLLM(cfg)
			if err != nil {
				t.Fatal(err)
			}
			r1, err := l.Classify(context.Background(), testMessage(tc.first), triage.Context{})
			if err != nil {
				t.Fatal(err)
			}
			r2, err := l.Classify(context.Background(), testMessage(tc.second), triage.Context{})
			if err != nil {
				t.Fatal(err)
			}
			if got := f.calls(); got != tc.wantCalls {
				t.Errorf("calls = %d, want %d", got, tc.wantCalls)
			}
			if r1.Intent != r2.Intent || r1.Confidence != r2.Confidence || r1.Summary != r2.Summary ||
				r1.Draft != r2.Draft || r1.Model != r2.Model || r1.Usage != r2.Usage {
				t.Errorf("results differ:\n%+v\n%+v", r1, r2)
			}
		})
	}
}

// TestLLMCacheKeyHasModel checks a cached answer of one model is not reused
// for another.
func TestLLMCacheKeyHasModel(t *testing.T) {
	f := newFake(t, openaiWire)
	cache := &memCache{}
	for _, model := range []string{"model-a", "model-b", "model-a"} {
		cfg := f.config(model, newStub())
		cfg.Cache = cache
		l, err := triage.NewLLM(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Classify(context.Background(), testMessage("m1"), triage.Context{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.calls(); got != 2 {
		t.Errorf("calls = %d, want 2 (one per model)", got)
	}
	if _, ok := cache.m[triage.CacheKey{MessageID: "m1", Model: "openai/model-b", PromptVersion: triage.PromptVersion}]; !ok {
		t.Errorf("no entry for model-b: %v", cache.m)
	}
}

// TestLLMCacheSurvivesReopen uses the real store: classify, close the
// database, reopen it, classify again: the server sees one call in all.
func TestLLMCacheSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "smista.db")
	f := newFake(t, openaiWire)
	m := testMessage("reopen")
	m.ID = mail.EmailID(m.MessageID)
	m.Raw = []byte("Subject: Login broken\r\n\r\n" + testBody)

	classify := func() triage.Result {
		t.Helper()
		d, err := db.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if _, err := d.SaveMessages(ctx, "test", []*mail.Message{m}); err != nil {
			t.Fatal(err)
		}
		cfg := f.config("test-model", newStub())
		cfg.Cache = d
		l, err := triage.NewLLM(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r, err := l.Classify(ctx, m, triage.Context{})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r1 := classify()
	r2 := classify()
	if got := f.calls(); got != 1 {
		t.Errorf("calls = %d, want 1", got)
	}
	if r1.Intent != r2.Intent || r1.Confidence != r2.Confidence || r1.Summary != r2.Summary || r1.Usage != r2.Usage {
		t.Errorf("results differ:\n%+v\n%+v", r1, r2)
	}
}

// TestLLMCacheCorruptEntry checks an entry that no longer validates is
// ignored and replaced.
func TestLLMCacheCorruptEntry(t *testing.T) {
	f := newFake(t, openaiWire)
	k := triage.CacheKey{MessageID: "m1", Model: "openai/test-model", PromptVersion: triage.PromptVersion}
	cache := &memCache{m: map[triage.CacheKey]triage.CacheEntry{k: {Response: `{"intent":"nonsense"}`}}}
	cfg := f.config("test-model", newStub())
	cfg.Cache = cache
	l, err := triage.NewLLM(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := l.Classify(context.Background(), testMessage("m1"), triage.Context{})
	if err != nil {
		t.Fatal(err)
	}
	if f.calls() != 1 || r.Intent != triage.IntentSupport || cache.puts != 1 {
		t.Errorf("calls %d intent %s puts %d", f.calls(), r.Intent, cache.puts)
	}
}
