package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"smista/app"
	"smista/db"
	"smista/mail"
	"smista/triage"
)

// With an LLM, the corrected emails most like the one classified go into
// the prompt as examples (fenced like the email), and an answer given
// without them is not reused once a correction exists.
func TestLLMSeesCorrectionsAsExamples(t *testing.T) {
	answer, err := os.ReadFile(filepath.Join("..", "triage", "testdata", "llm", "openai_json_schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var prompts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"messages"`
		}
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &req)
		mu.Lock()
		for _, m := range req.Messages {
			if m.Role == "user" {
				prompts = append(prompts, m.Content)
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	defer srv.Close()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := triage.NewClassifier(triage.ClassifierConfig{Provider: "openai", Model: "gpt-test", BaseURL: srv.URL + "/v1",
		APIKey: "k", Cache: d, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Options{Store: d, Classifier: c})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	msg := func(id, subject, text string) *mail.Message {
		m, err := mail.Parse([]byte("From: c@brewery.example\r\nSubject: " + subject + "\r\nMessage-ID: <" + id + "@x>\r\n\r\n" + text + "\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	first := msg("a", "Fermenter telemetry export", "The fermenter telemetry export to the brewhouse dashboard shows gravity readings twice.")
	second := msg("b", "Telemetry export again", "Again the fermenter telemetry export to the dashboard doubles the gravity readings.")
	if _, err := d.SaveMessages(ctx, "test", []*mail.Message{first, second}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Triage(ctx, app.TriageRequest{IDs: []string{second.ID}}); err != nil {
		t.Fatal(err)
	}
	if err := a.CorrectIntent(ctx, first.ID, triage.IntentBilling, "giulia"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Triage(ctx, app.TriageRequest{IDs: []string{second.ID}}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(prompts) != 2 {
		t.Fatalf("%d model calls, want 2 (the answer without examples is not reused)", len(prompts))
	}
	if strings.Contains(prompts[0], "EXAMPLE") {
		t.Error("the first call had examples before any correction")
	}
	last := prompts[1]
	if !strings.Contains(last, "<<<EXAMPLE ") || !strings.Contains(last, "Fermenter telemetry export") ||
		!strings.Contains(last, "The person's intent: billing") {
		t.Errorf("the prompt after the correction lacks the fenced example:\n%.2000s", last)
	}
}
