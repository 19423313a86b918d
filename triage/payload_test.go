package triage_test

import (
	"encoding/json"
	"strings"
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

// hasControl reports the first C0/C1 control character other than newline
// and tab in s, or -1.
func hasControl(s string) rune {
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r <= 0x9f) {
			return r
		}
	}
	return -1
}

func TestTicketPayloadCarriesNoControlCharacters(t *testing.T) {
	hostile := "Help \x1b[2J\x1b]0;pwned\x07login\a\x7f \u009b31mred\u0085 \x1bPq#0;2\x1b\\done\r\nline2\tcol"
	m := &mail.Message{
		ID:        "abc\x1b[1m123",
		MessageID: "<a1\x07@azienda.com>",
		ThreadID:  "thr\x00789",
		From:      mail.Address{Addr: "cliente\x1b]8;;http://evil\x07@azienda.com"},
		Subject:   hostile,
	}
	r := triage.Result{Intent: triage.IntentSupport, Confidence: 0.9, Priority: triage.PriorityHigh,
		Summary: "Riassunto \x1b[31mrosso\x1b[0m\u009b"}
	got, err := triage.TicketPayload(m, r, "https://app.example/{email_id}")
	if err != nil {
		t.Fatal(err)
	}
	// No control character survives, not even JSON-escaped.
	for _, esc := range []string{`\u00`, `\u007f`, `\u0080`, `\u009`, `\r`, `\b`, `\f`} {
		if strings.Contains(string(got), esc) {
			t.Errorf("payload carries %s: %s", esc, got)
		}
	}
	var fields map[string]any
	if err := json.Unmarshal(got, &fields); err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		if s, ok := v.(string); ok && hasControl(s) >= 0 {
			t.Errorf("field %s = %q carries control %U", k, s, hasControl(s))
		}
	}
	want := map[string]string{
		"subject":   "Help login red done\nline2\tcol",
		"summary":   "Riassunto rosso",
		"from":      "cliente@azienda.com",
		"email_id":  "abc123",
		"thread_id": "thr789",
	}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("%s = %q, want %q", k, fields[k], v)
		}
	}
}

func TestCleanText(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"plain":                    {"Non funziona il login", "Non funziona il login"},
		"newline and tab kept":     {"a\nb\tc", "a\nb\tc"},
		"crlf and lone cr":         {"a\r\nb\rc", "a\nb\nc"},
		"bel del nul":              {"a\a\x7f\x00b", "ab"},
		"csi whole":                {"\x1b[2Jclear", "clear"},
		"csi with params":          {"\x1b[38;5;196mred\x1b[0m", "red"},
		"csi private":              {"\x1b[?1049hx", "x"},
		"osc bel":                  {"a\x1b]0;pwned\x07b", "ab"},
		"osc st":                   {"a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b", "alinkb"},
		"osc c1 st":                {"a\x1b]0;t\u009cb", "ab"},
		"dcs":                      {"a\x1bPq#0\x1b\\b", "ab"},
		"apc pm sos":               {"a\x1b_x\x07\x1b^y\x07\x1bXz\x07b", "ab"},
		"osc unterminated":         {"a\x1b]0;title", "a]0;title"},
		"two unterminated":         {"\x1b]a\x1b]b", "]a]b"},
		"short escapes":            {"\x1b7a\x1b8\x1bcb\x1b(Bc\x1b=", "abc"},
		"lone esc at end":          {"abc\x1b", "abc"},
		"c1 csi":                   {"a\u009b31mb", "ab"},
		"c1 osc":                   {"a\u009d0;t\ab", "ab"},
		"other c1":                 {"a\u0085\u0080\u009cb", "ab"},
		"invalid utf8":             {"a\xffb\x9bc", "a\ufffdb\ufffdc"},
		"non-ascii kept":           {"perché è così — 日本", "perché è così — 日本"},
		"escape in the middle":     {"Help \x1b[2J\x1b]0;pwned\x07login", "Help login"},
		"csi cut by a control":     {"\x1b[12\nx", "\nx"},
		"bidi marks are not C0/C1": {"a\u202eb", "a\u202eb"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := triage.CleanText(tc.in)
			if got != tc.want {
				t.Errorf("CleanText(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if r := hasControl(got); r >= 0 {
				t.Errorf("CleanText(%q) keeps %U", tc.in, r)
			}
			if again := triage.CleanText(got); again != got {
				t.Errorf("not idempotent: %q then %q", got, again)
			}
		})
	}
}

func BenchmarkCleanText(b *testing.B) {
	for name, s := range map[string]string{
		"clean":  "Non funziona il login dopo l'aggiornamento — perché?",
		"escape": "Help \x1b[2J\x1b]0;pwned\x07login dopo l'aggiornamento",
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				triage.CleanText(s)
			}
		})
	}
}
