package triage_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"smista/triage"
)

// recorded serves one recorded provider response for every request on
// 127.0.0.1, after checking the request asked for structured output.
type recorded struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls int
}

func serveRecorded(t *testing.T, w wire, file string) *recorded {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "llm", file))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorded{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		req, err := io.ReadAll(r.Body)
		if err != nil || r.URL.Path != w.path {
			t.Errorf("%s: %s %s: %v", w.name, r.Method, r.URL.Path, err)
		}
		if _, _, _, structured := w.texts(t, req); !structured {
			t.Errorf("%s: request without structured output: %s", w.name, req)
		}
		rec.mu.Lock()
		rec.calls++
		rec.mu.Unlock()
		rw.Header().Set("Content-Type", "application/json")
		rw.Write(body)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

// TestLLMStructuredRecorded runs each provider's real client against a
// recorded response of that provider to a structured-output request:
// OpenAI's strict json_schema answer and its refusal, Anthropic's forced
// tool use (alone, and after a text block), Ollama's format-schema answer.
// The answer is still parsed and validated here; a refusal falls back.
func TestLLMStructuredRecorded(t *testing.T) {
	cases := map[string]struct {
		wire       wire
		file       string
		wantIntent triage.Intent
		wantConf   float64
		wantFlags  []triage.Flag
		wantUsage  triage.Usage
		wantCalls  int
		wantNote   string
	}{
		"openai json_schema": {wire: openaiWire, file: "openai_json_schema.json", wantIntent: triage.IntentSupport, wantConf: 0.93,
			wantUsage: triage.Usage{InputTokens: 1184, OutputTokens: 71}, wantCalls: 1},
		"openai refusal falls back": {wire: openaiWire, file: "openai_refusal.json", wantIntent: triage.IntentOther, wantConf: 0.5,
			wantUsage: triage.Usage{InputTokens: 2 * 1190, OutputTokens: 2 * 12}, wantCalls: 2,
			wantNote: "llm fallback: invalid output twice: no JSON object in the answer"},
		"anthropic tool use": {wire: anthropicWire, file: "anthropic_tool_use.json", wantIntent: triage.IntentSupport, wantConf: 0.9,
			wantUsage: triage.Usage{InputTokens: 1307, OutputTokens: 164}, wantCalls: 1},
		"anthropic text then tool use": {wire: anthropicWire, file: "anthropic_text_and_tool_use.json", wantIntent: triage.IntentBilling,
			wantConf: 0.82, wantFlags: []triage.Flag{triage.FlagPayments},
			wantUsage: triage.Usage{InputTokens: 1298, OutputTokens: 121}, wantCalls: 1},
		"ollama format schema": {wire: ollamaWire, file: "ollama_format_schema.json", wantIntent: triage.IntentSupport, wantConf: 0.88,
			wantUsage: triage.Usage{InputTokens: 1152, OutputTokens: 83}, wantCalls: 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rec := serveRecorded(t, tc.wire, tc.file)
			l, err := triage.NewLLM(triage.LLMConfig{
				Provider: tc.wire.name, Model: "recorded", BaseURL: tc.wire.baseURL(rec.srv.URL), APIKey: testKey,
				Timeout: answerTimeout, Backoff: time.Millisecond, HTTPClient: rec.srv.Client(), Offline: newStub(),
			})
			if err != nil {
				t.Fatal(err)
			}
			r, err := l.Classify(context.Background(), testMessage("m1"), triage.Context{})
			if err != nil {
				t.Fatal(err)
			}
			if r.Intent != tc.wantIntent || r.Confidence != tc.wantConf || !slices.Equal(r.Flags, tc.wantFlags) {
				t.Errorf("got %s %.2f %v, want %s %.2f %v", r.Intent, r.Confidence, r.Flags, tc.wantIntent, tc.wantConf, tc.wantFlags)
			}
			if r.Usage != tc.wantUsage {
				t.Errorf("usage %+v, want %+v", r.Usage, tc.wantUsage)
			}
			rec.mu.Lock()
			calls := rec.calls
			rec.mu.Unlock()
			if calls != tc.wantCalls {
				t.Errorf("calls %d, want %d", calls, tc.wantCalls)
			}
			if tc.wantNote != "" {
				if !hasNote(r, tc.wantNote) {
					t.Errorf("notes %q, want %q", r.Notes, tc.wantNote)
				}
				return
			}
			if r.Model != tc.wire.name+"/recorded" || r.Summary == "" || r.Draft == "" || len(r.Notes) != 0 {
				t.Errorf("model %q summary %q draft %q notes %q", r.Model, r.Summary, r.Draft, r.Notes)
			}
		})
	}
}
