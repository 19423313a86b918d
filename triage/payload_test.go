package triage_test

import (
	"encoding/json"
	"testing"

	"smista/mail"
	"smista/triage"
)

func TestTicketPayloadGolden(t *testing.T) {
	m := &mail.Message{
		ID:        "abc123",
		MessageID: "<a1+b@azienda.com>",
		ThreadID:  "thr789",
		From:      mail.Address{Name: "Cliente", Addr: "cliente@azienda.com"},
		Subject:   "Non funziona il login <urgente> & altro",
	}
	r := triage.Result{Intent: triage.IntentSupport, Confidence: 0.88, Priority: triage.PriorityHigh,
		Summary: "Problema di accesso segnalato dal cliente", Flags: nil}
	got, err := triage.TicketPayload(m, r, "")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"event":"ticket.suggested","email_id":"abc123","thread_id":"thr789","from":"cliente@azienda.com",` +
		`"subject":"Non funziona il login <urgente> & altro","summary":"Problema di accesso segnalato dal cliente",` +
		`"priority":"high","confidence":0.88,"category":"support","raw_email_url":"mid:a1+b@azienda.com"}`
	if string(got) != want {
		t.Errorf("payload\n got %s\nwant %s", got, want)
	}
	var fields map[string]any
	if err := json.Unmarshal(got, &fields); err != nil || len(fields) != 10 {
		t.Errorf("payload is not a flat object of 10 fields: %v %v", fields, err)
	}
}

func TestRawEmailURL(t *testing.T) {
	tests := map[string]struct {
		template, mid, id, want string
	}{
		"default":          {"", "<x@y.example>", "e1", "mid:x@y.example"},
		"escaped":          {"", "<a b/c?d@y.example>", "e1", "mid:a%20b%2Fc%3Fd@y.example"},
		"email id":         {"https://app.example/emails/{email_id}", "<x@y>", "abc123", "https://app.example/emails/abc123"},
		"both":             {"https://app.example/m/{message_id}?id={email_id}", "<x@y>", "e2", "https://app.example/m/x@y?id=e2"},
		"no brackets kept": {"mid:{message_id}", "x@y", "e3", "mid:x@y"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := triage.RawEmailURL(tc.template, tc.mid, tc.id); got != tc.want {
				t.Errorf("RawEmailURL = %q, want %q", got, tc.want)
			}
		})
	}
	m := &mail.Message{MessageID: "<x@y>", ThreadID: "t"}
	b, err := triage.TicketPayload(m, triage.Result{Confidence: 0.123456}, "https://app.example/{email_id}")
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		EmailID     string  `json:"email_id"`
		RawEmailURL string  `json:"raw_email_url"`
		Confidence  float64 `json:"confidence"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.EmailID != mail.EmailID("<x@y>") || ev.RawEmailURL != "https://app.example/"+ev.EmailID || ev.Confidence != 0.123 {
		t.Errorf("payload %s", b)
	}
	if _, err := triage.TicketPayload(nil, triage.Result{}, ""); err == nil {
		t.Error("nil message: no error")
	}
}
