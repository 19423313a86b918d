package triage

import "time"

// SamplePayload returns the body of the sample ticket.suggested event sent
// by "smista endpoints test": the contract's fields in their order, with
// sample values, built by the same code as every real event.
func SamplePayload(now time.Time) []byte {
	ev := ticketEvent{
		Event:       EventTicketSuggested,
		EmailID:     "test_" + now.UTC().Format("20060102T150405"),
		ThreadID:    "test_thread",
		From:        "customer@example.com",
		Subject:     "Test event from smista: login does not work",
		Summary:     "A sample ticket.suggested event sent by 'smista endpoints test'.",
		Priority:    string(PriorityNormal),
		Confidence:  0.99,
		Category:    string(IntentSupport),
		RawEmailURL: "mid:test@smista.invalid",
	}
	b, err := encodeEvent(ev)
	if err != nil {
		panic("triage: sample payload: " + err.Error()) // a fixed struct of strings always encodes
	}
	return b
}
