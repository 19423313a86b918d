package triage_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"smista/triage"
)

// Ping makes one request for at most one token and reports a refusal by
// its status, never the key.
func TestLLMPing(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) > 1 {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":{"message":"bad key","type":"invalid_request_error"}}`))
			return
		}
		openaiWire.write(w, "OK", 12, 1)
	}))
	defer srv.Close()
	l, err := triage.NewLLM(triage.LLMConfig{Provider: "openai", Model: "test-model", BaseURL: srv.URL + "/v1", APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Ping(context.Background()); err != nil {
		t.Fatalf("ping: %v", err)
	}
	err = l.Ping(context.Background())
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), testKey) {
		t.Fatalf("refused ping: %v", err)
	}
	if calls.Load() != 2 {
		t.Fatalf("%d calls, want one per ping", calls.Load())
	}
	off, err := triage.NewOffline()
	if err != nil {
		t.Fatal(err)
	}
	if err := triage.NewCombined(off, off).Ping(context.Background()); !errors.Is(err, triage.ErrNoLLM) {
		t.Fatalf("combined without an LLM: %v", err)
	}
}
