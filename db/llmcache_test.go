package db_test

import (
	"context"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/mail"
	"smista/triage"
)

func mustOpenCacheDB(tb testing.TB, ids ...string) *db.DB {
	tb.Helper()
	d := dbtest.MustOpen(tb)
	d.Now = func() time.Time { return time.UnixMilli(1_700_000_000_000) }
	var msgs []*mail.Message
	for _, id := range ids {
		msgs = append(msgs, &mail.Message{ID: id, MessageID: "<" + id + "@x>", Subject: "s", Header: map[string][]string{}, Raw: []byte("Subject: s\r\n\r\nbody")})
	}
	if len(msgs) > 0 {
		if _, err := d.SaveMessages(context.Background(), "test", msgs); err != nil {
			tb.Fatal(err)
		}
	}
	return d
}

func TestLLMCache(t *testing.T) {
	ctx := context.Background()
	d := mustOpenCacheDB(t, "m1")
	k := triage.CacheKey{MessageID: "m1", Model: "openai/gpt-x", PromptVersion: "p1"}

	if _, ok, err := d.LLMCacheGet(ctx, k); err != nil || ok {
		t.Fatalf("empty cache: ok=%v err=%v", ok, err)
	}
	e := triage.CacheEntry{Response: `{"intent":"support"}`, Usage: triage.Usage{InputTokens: 120, OutputTokens: 30}}
	if err := d.LLMCachePut(ctx, k, e); err != nil {
		t.Fatal(err)
	}
	got, ok, err := d.LLMCacheGet(ctx, k)
	if err != nil || !ok || got != e {
		t.Fatalf("get = %+v %v %v, want %+v", got, ok, err, e)
	}

	e2 := triage.CacheEntry{Response: `{"intent":"sales"}`, Usage: triage.Usage{InputTokens: 1, OutputTokens: 2}}
	if err := d.LLMCachePut(ctx, k, e2); err != nil {
		t.Fatalf("replace: %v", err)
	}
	if got, _, _ := d.LLMCacheGet(ctx, k); got != e2 {
		t.Errorf("after replace = %+v, want %+v", got, e2)
	}

	misses := map[string]triage.CacheKey{
		"other model":          {MessageID: "m1", Model: "openai/gpt-y", PromptVersion: "p1"},
		"other prompt version": {MessageID: "m1", Model: "openai/gpt-x", PromptVersion: "p2"},
		"other message":        {MessageID: "m2", Model: "openai/gpt-x", PromptVersion: "p1"},
	}
	for name, mk := range misses {
		t.Run(name, func(t *testing.T) {
			if _, ok, err := d.LLMCacheGet(ctx, mk); err != nil || ok {
				t.Errorf("ok=%v err=%v, want a miss", ok, err)
			}
		})
	}

	// The row references the message: an unknown message is refused.
	if err := d.LLMCachePut(ctx, misses["other message"], e); err == nil {
		t.Error("put for an unstored message succeeded")
	}
}
