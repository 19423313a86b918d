package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"smista/db"
	"smista/mail"
)

// seedTriageDB stores a few messages and one endpoint, returning the path.
func seedTriageDB(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.db")
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	bodies := []struct{ from, name, subject, text string }{
		{"jane@customer.example", "Jane Doe", "Cannot log in", "Hi,\n\nI can't log in to my account since this morning: the page shows error 500 after the password. Can you help?\n\nThanks,\nJane"},
		{"anna@ceo.example", "Anna", "Rimborso", "Buongiorno, vorrei il rimborso dell'ultimo pagamento.\n\nGrazie"},
		{"x@spam.example", "", "You have won \x1b[31m$1000\x1b[0m!", "Congratulations! Click here to claim your prize now, limited offer."},
	}
	var msgs []*mail.Message
	for i := range n {
		b := bodies[i%len(bodies)]
		mid := "<m" + string(rune('a'+i)) + "@test.example>"
		msgs = append(msgs, &mail.Message{ID: mail.EmailID(mid), MessageID: mid, ThreadID: mail.EmailID(mid),
			From: mail.Address{Name: b.name, Addr: b.from}, Subject: b.subject, Text: b.text,
			Date: time.Unix(int64(1000+i), 0)})
	}
	if _, err := d.SaveMessages(context.Background(), "test", msgs); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateEndpoint(context.Background(), "http://127.0.0.1:9/", "whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0"); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCLITriageJSON(t *testing.T) {
	path := seedTriageDB(t, 3)
	code, stdout, stderr := runApp(t, path, "triage", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 JSON lines, got %q", stdout)
	}
	wantKeys := []string{"email_id", "message_id", "thread_id", "from", "subject", "language", "intent", "confidence",
		"priority", "summary", "flags", "action", "reasons", "model"}
	byFrom := map[string]map[string]any{}
	for _, l := range lines {
		dec := json.NewDecoder(strings.NewReader(l))
		var keys []string
		tok, _ := dec.Token() // {
		_ = tok
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k.(string))
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				t.Fatal(err)
			}
		}
		if strings.Join(keys, ",") != strings.Join(wantKeys, ",") {
			t.Errorf("keys %v, want %v", keys, wantKeys)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatal(err)
		}
		if _, ok := v["flags"].([]any); !ok {
			t.Errorf("flags not an array: %s", l)
		}
		if _, ok := v["reasons"].([]any); !ok {
			t.Errorf("reasons not an array: %s", l)
		}
		byFrom[v["from"].(string)] = v
	}
	if v := byFrom["jane@customer.example"]; v["action"] != "ticket" || v["intent"] != "support" || v["model"] != "offline/1" || v["language"] != "en" {
		t.Errorf("support email: %v", v)
	}
	if v := byFrom["anna@ceo.example"]; v["action"] == "ticket" || v["language"] != "it" || !strings.Contains(strings.Join(toStrings(v["flags"]), ","), "payments") {
		t.Errorf("payments email: %v", v)
	}
	if v := byFrom["x@spam.example"]; v["action"] != "suggest" || v["subject"] != "You have won $1000!" {
		t.Errorf("spam (its subject's escapes stripped): %v", v)
	}
	if strings.Contains(stdout, `\u001b`) || strings.ContainsRune(stdout, 0x1b) {
		t.Errorf("a control character reached the JSON lines: %q", stdout)
	}
	if !strings.Contains(stderr, "triaged 3: 1 ticket") {
		t.Errorf("stderr %q", stderr)
	}

	// nothing left; --all re-triages without a second event
	code, stdout, stderr = runApp(t, path, "triage", "--json")
	if code != 0 || stdout != "" || !strings.Contains(stderr, "nothing to triage") {
		t.Errorf("second run: %d %q %q", code, stdout, stderr)
	}
	code, stdout, _ = runApp(t, path, "triage", "--json", "--all")
	if code != 0 || strings.Count(stdout, "\n") != 3 {
		t.Errorf("--all: %d %q", code, stdout)
	}
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err := d.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.Tickets != 1 || c.Deliveries != 1 {
		t.Errorf("events %d deliveries %d after re-triage, want 1 and 1", c.Tickets, c.Deliveries)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestCLITriageTableAndProgress(t *testing.T) {
	path := seedTriageDB(t, 9)
	var out, errb bytes.Buffer
	a := &Main{Stdout: &out, Stderr: &errb, IsTerminal: true, Getenv: func(k string) string {
		return map[string]string{"HOME": t.TempDir()}[k]
	}}
	if code := a.Run(context.Background(), []string{"--db", path, "triage"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	if !strings.HasPrefix(s, "EMAIL_ID") || strings.Count(s, "\n") != 10 {
		t.Errorf("table:\n%s", s)
	}
	if strings.Contains(s, "\x1b") {
		t.Errorf("escape sequence reached the terminal: %q", s)
	}
	if !strings.Contains(errb.String(), "triage [") || !strings.Contains(errb.String(), "9/9") {
		t.Errorf("no progress bar: %q", errb.String())
	}
}

func TestCLITriageProviderErrors(t *testing.T) {
	path := seedTriageDB(t, 1)
	code, _, stderr := runApp(t, path, "triage", "--provider", "bogus")
	if code != 2 || !strings.Contains(stderr, "bogus") {
		t.Errorf("bogus provider: %d %q", code, stderr)
	}
	code, _, stderr = runApp(t, path, "triage", "--provider", "openai")
	if code != 1 || !strings.Contains(stderr, "provider openai") {
		t.Errorf("openai without a model: %d %q", code, stderr)
	}
	code, _, stderr = runApp(t, path, "triage", "extra")
	if code != 2 {
		t.Errorf("extra argument: %d %q", code, stderr)
	}
}

// TestTriageTunesTheCollector: "smista triage" asks for triageGCPercent
// unless GOGC is set, and triages all the same.
func TestTriageTunesTheCollector(t *testing.T) {
	for _, env := range []string{"", "GOGC"} {
		t.Run("env="+env, func(t *testing.T) {
			path := seedTriageDB(t, 3)
			vars := map[string]string{"HOME": t.TempDir()}
			if env != "" {
				vars[env] = "100"
			}
			gc := -1
			var out, errb bytes.Buffer
			m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] },
				SetGCPercent: func(p int) int { gc = p; return 100 }}
			if code := m.Run(context.Background(), []string{"--db", path, "triage"}); code != 0 {
				t.Fatalf("triage: %d %s", code, errb.String())
			}
			if env == "" && gc != triageGCPercent {
				t.Errorf("GC percent %d, want %d", gc, triageGCPercent)
			}
			if env != "" && gc != -1 {
				t.Errorf("with %s set: GC percent %d was changed", env, gc)
			}
			if !strings.Contains(errb.String(), "triaged 3") {
				t.Errorf("summary: %q", errb.String())
			}
		})
	}
}
