package webhook

import (
	"encoding/json"
	"time"
)

// SamplePayload returns the body of the ticket.suggested sample sent by
// "smista endpoints test": the contract's fields, with sample values.
func SamplePayload(now time.Time) []byte {
	b, _ := json.Marshal(struct {
		Event       string  `json:"event"`
		EmailID     string  `json:"email_id"`
		ThreadID    string  `json:"thread_id"`
		From        string  `json:"from"`
		Subject     string  `json:"subject"`
		Summary     string  `json:"summary"`
		Priority    string  `json:"priority"`
		Confidence  float64 `json:"confidence"`
		Category    string  `json:"category"`
		RawEmailURL string  `json:"raw_email_url"`
	}{
		Event:       "ticket.suggested",
		EmailID:     "test_" + now.UTC().Format("20060102T150405"),
		ThreadID:    "test_thread",
		From:        "customer@example.com",
		Subject:     "Test event from smista: login does not work",
		Summary:     "A sample ticket.suggested event sent by 'smista endpoints test'.",
		Priority:    "normal",
		Confidence:  0.99,
		Category:    "support",
		RawEmailURL: "mid:test@smista.invalid",
	})
	return b
}
