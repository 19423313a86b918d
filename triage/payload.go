package triage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"

	"smista/mail"
)

// EventTicketSuggested is the only webhook event type.
const EventTicketSuggested = "ticket.suggested"

// DefaultRawEmailURL is the raw_email_url template when none is configured:
// the RFC 2392 mid: URL of the Message-ID.
const DefaultRawEmailURL = "mid:{message_id}"

// ticketEvent is the body of the event, fields in the design's order.
type ticketEvent struct {
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
}

// TicketPayload builds the exact ticket.suggested body of the design for m
// and its classification r: flat, these fields in this order, category =
// the intent, confidence rounded to three decimals. rawURLTemplate may use
// {message_id} (the Message-ID without angle brackets, URL-escaped) and
// {email_id}; "" means DefaultRawEmailURL. Every text field goes through
// CleanText: a subject's escape sequences never reach a receiver that
// prints the payload. It fails only on a nil message.
func TicketPayload(m *mail.Message, r Result, rawURLTemplate string) ([]byte, error) {
	if m == nil {
		return nil, errors.New("ticket payload: no message")
	}
	id := m.StableID()
	ev := ticketEvent{
		Event:       EventTicketSuggested,
		EmailID:     CleanText(id),
		ThreadID:    CleanText(m.ThreadID),
		From:        CleanText(m.From.Addr),
		Subject:     CleanText(m.Subject),
		Summary:     CleanText(r.Summary),
		Priority:    CleanText(string(r.Priority)),
		Confidence:  math.Round(clamp01(r.Confidence)*1000) / 1000,
		Category:    CleanText(string(r.Intent)),
		RawEmailURL: CleanText(RawEmailURL(rawURLTemplate, m.MessageID, id)),
	}
	b, err := encodeEvent(ev)
	if err != nil {
		return nil, fmt.Errorf("ticket payload: %w", err)
	}
	return b, nil
}

// encodeEvent writes ev as compact JSON without a trailing newline.
func encodeEvent(ev ticketEvent) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // receivers read subjects like "<urgent>" as written
	if err := enc.Encode(ev); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// RawEmailURL fills a raw_email_url template ("" means DefaultRawEmailURL).
func RawEmailURL(template, messageID, emailID string) string {
	if strings.TrimSpace(template) == "" {
		template = DefaultRawEmailURL
	}
	mid := url.PathEscape(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(messageID), "<"), ">"))
	return strings.NewReplacer("{message_id}", mid, "{email_id}", url.PathEscape(emailID)).Replace(template)
}
