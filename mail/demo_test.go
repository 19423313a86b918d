package mail_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	smail "smista/mail"
)

// demoMessages loads the embedded demo corpus and parses every message with
// the standard library, failing the test on the first one that does not parse.
func demoMessages(tb testing.TB) []*mail.Message {
	tb.Helper()
	raws, err := smail.DemoCorpus()
	if err != nil {
		tb.Fatalf("DemoCorpus: %v", err)
	}
	out := make([]*mail.Message, 0, len(raws))
	for i, raw := range raws {
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			tb.Fatalf("demo message %d does not parse as RFC 5322: %v", i, err)
		}
		out = append(out, m)
	}
	return out
}

func TestDemoCorpusLoads(t *testing.T) {
	msgs := demoMessages(t)
	if n := len(msgs); n < 35 || n > 50 {
		t.Fatalf("demo corpus has %d messages, want about 40", n)
	}
	first, err := smail.DemoCorpus()
	if err != nil {
		t.Fatal(err)
	}
	again, err := smail.DemoCorpus()
	if err != nil {
		t.Fatal(err)
	}
	for i := range again {
		if !bytes.Equal(again[i], first[i]) {
			t.Fatalf("DemoCorpus order is not stable at %d", i)
		}
	}
}

func TestDemoCorpusHeaders(t *testing.T) {
	dec := &mime.WordDecoder{}
	parser := &mail.AddressParser{WordDecoder: dec}
	seen := map[string]bool{}
	from := time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	for i, m := range demoMessages(t) {
		id := m.Header.Get("Message-Id")
		if !regexp.MustCompile(`^<[^<>@\s]+@[^<>@\s]+>$`).MatchString(id) {
			t.Errorf("message %d: Message-ID %q is not <left@right>", i, id)
		}
		if seen[id] {
			t.Errorf("message %d: duplicate Message-ID %s", i, id)
		}
		seen[id] = true
		d, err := m.Header.Date()
		if err != nil {
			t.Errorf("message %d: Date: %v", i, err)
		} else if d.Before(from) || d.After(to) {
			t.Errorf("message %d: Date %v outside the two weeks before 2026-11-20", i, d)
		}
		a, err := parser.Parse(m.Header.Get("From"))
		if err != nil {
			t.Errorf("message %d: From: %v", i, err)
			continue
		}
		if a.Name == "" {
			t.Errorf("message %d: From %q has no display name", i, a.Address)
		}
		if !fictional(a.Address) {
			t.Errorf("message %d: From %q is not on a reserved example/test domain", i, a.Address)
		}
		if _, err := dec.DecodeHeader(m.Header.Get("Subject")); err != nil {
			t.Errorf("message %d: Subject: %v", i, err)
		}
	}
}

// fictional reports whether addr is on a domain reserved for examples
// (RFC 2606 / RFC 6761), so the demo never names a real mailbox.
func fictional(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return false
	}
	d := strings.ToLower(addr[at+1:])
	for _, s := range []string{"example.com", "example.org", "example.net", "example"} {
		if d == s || strings.HasSuffix(d, "."+s) {
			return true
		}
	}
	return strings.HasSuffix(d, ".test")
}

func TestDemoCorpusCoverage(t *testing.T) {
	msgs := demoMessages(t)
	type probe func(h mail.Header, body string) bool
	header := func(key, re string) probe {
		rx := regexp.MustCompile(re)
		return func(h mail.Header, _ string) bool { return rx.MatchString(h.Get(key)) }
	}
	bodyHas := func(re string) probe {
		rx := regexp.MustCompile(re)
		return func(_ mail.Header, b string) bool { return rx.MatchString(b) }
	}
	tests := map[string]struct {
		probe probe
		min   int
	}{
		"multipart/alternative": {header("Content-Type", `(?i)^multipart/alternative`), 3},
		"HTML only":             {header("Content-Type", `(?i)^text/html`), 2},
		"attachment":            {bodyHas(`(?i)Content-Disposition: attachment; filename=`), 3},
		"Latin-1 quoted-printable": {func(h mail.Header, _ string) bool {
			return strings.Contains(strings.ToLower(h.Get("Content-Type")), "iso-8859-1") &&
				strings.EqualFold(h.Get("Content-Transfer-Encoding"), "quoted-printable")
		}, 2},
		"Windows-1252":             {header("Content-Type", `(?i)charset="?windows-1252`), 1},
		"RFC 2047 Latin-1 subject": {header("Subject", `(?i)=\?ISO-8859-1\?Q\?`), 1},
		"RFC 2047 UTF-8 subject":   {header("Subject", `(?i)=\?UTF-8\?B\?`), 1},
		"reply in a thread":        {header("In-Reply-To", `^<.+>$`), 2},
		"newsletter":               {header("List-Unsubscribe", `<`), 2},
		"bulk precedence":          {header("Precedence", `(?i)^bulk$`), 1},
		"auto-reply":               {header("Auto-Submitted", `(?i)^auto-replied`), 2},
		"noreply sender":           {header("From", `(?i)noreply@`), 3},
		"VIP sender":               {header("From", `(?i)@bigclient\.example>`), 2},
		"prompt injection":         {bodyHas(`(?i)ignore all previous instructions`), 1},
		"hidden HTML text":         {bodyHas(`(?i)display:\s*none`), 1},
		"English":                  {bodyHas(`(?i)\b(thanks|hello|regards|dear)\b`), 12},
		"Italian":                  {bodyHas(`(?i)\b(grazie|buongiorno|salve|cordiali|gentile)\b`), 10},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			n := 0
			for _, m := range msgs {
				body, err := io.ReadAll(m.Body)
				if err != nil {
					t.Fatal(err)
				}
				m.Body = bytes.NewReader(body)
				if tc.probe(m.Header, string(body)) {
					n++
				}
			}
			if n < tc.min {
				t.Errorf("%d demo messages show %s, want at least %d", n, name, tc.min)
			}
		})
	}
}

func TestDemoCorpusParses(t *testing.T) {
	raws, err := smail.DemoCorpus()
	if err != nil {
		t.Fatal(err)
	}
	threads := map[string]int{}
	for i, raw := range raws {
		m, err := smail.Parse(raw)
		if err != nil {
			t.Errorf("message %d: Parse: %v", i, err)
			continue
		}
		if m.From.Addr == "" || m.Subject == "" || m.Date.IsZero() {
			t.Errorf("message %d: From %q, Subject %q, Date %v: want all set", i, m.From.Addr, m.Subject, m.Date)
		}
		if strings.TrimSpace(m.Text) == "" {
			t.Errorf("message %d (%s): empty text body", i, m.Subject)
		}
		if strings.ContainsRune(m.Subject+m.Text, utf8.RuneError) {
			t.Errorf("message %d (%s): mis-decoded charset", i, m.Subject)
		}
		threads[m.ThreadID]++
	}
	// The two "thanks, it works now" replies join their original's thread.
	joined := 0
	for _, n := range threads {
		if n > 1 {
			joined++
		}
	}
	if joined < 2 {
		t.Errorf("%d demo threads hold more than one message, want at least 2", joined)
	}
}

// triageDir is the hand-labelled triage test data, relative to this package.
const triageDir = "../testdata/triage"

// readEMLDir parses every .eml file in dir with net/mail and returns them by
// file name.
func readEMLDir(tb testing.TB, dir string) map[string]*mail.Message {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		tb.Fatal(err)
	}
	out := make(map[string]*mail.Message, len(names))
	for _, n := range names {
		raw, err := os.ReadFile(n)
		if err != nil {
			tb.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			tb.Errorf("%s does not parse as RFC 5322: %v", n, err)
			continue
		}
		body, err := io.ReadAll(m.Body)
		if err != nil {
			tb.Fatal(err)
		}
		m.Body = bytes.NewReader(body)
		out[filepath.Base(n)] = m
	}
	return out
}

func TestTriageTestdataIsWellFormed(t *testing.T) {
	parser := &mail.AddressParser{WordDecoder: &mime.WordDecoder{}}
	ids := map[string]string{}
	for _, sub := range []string{"labelled", "injection"} {
		msgs := readEMLDir(t, filepath.Join(triageDir, sub))
		for name, m := range msgs {
			where := sub + "/" + name
			a, err := parser.Parse(m.Header.Get("From"))
			if err != nil {
				t.Errorf("%s: From: %v", where, err)
			} else if !fictional(a.Address) {
				t.Errorf("%s: From %q is not on a reserved example/test domain", where, a.Address)
			}
			if _, err := m.Header.Date(); err != nil {
				t.Errorf("%s: Date: %v", where, err)
			}
			id := m.Header.Get("Message-Id")
			if prev, dup := ids[id]; dup || id == "" {
				t.Errorf("%s: Message-ID %q missing or shared with %s", where, id, prev)
			}
			ids[id] = where
			raw, _ := os.ReadFile(filepath.Join(triageDir, sub, name))
			pm, err := smail.Parse(raw)
			if err != nil {
				t.Errorf("%s: Parse: %v", where, err)
				continue
			}
			if strings.TrimSpace(pm.Text) == "" || strings.ContainsRune(pm.Subject+pm.Text, utf8.RuneError) {
				t.Errorf("%s: text empty or mis-decoded: %q", where, pm.Text)
			}
		}
	}
}

func TestLabelsMatchFiles(t *testing.T) {
	f, err := os.Open(filepath.Join(triageDir, "labels.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("labels.csv: %v", err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != "file,intent,ticket,flags" {
		t.Fatalf("labels.csv header = %v, want file,intent,ticket,flags", rows[:1])
	}
	rows = rows[1:]
	msgs := readEMLDir(t, filepath.Join(triageDir, "labelled"))
	if len(rows) < 120 {
		t.Errorf("labels.csv has %d rows, want at least 120", len(rows))
	}
	intents := map[string]int{}
	validIntent := map[string]bool{"support": true, "sales": true, "billing": true, "legal": true, "spam": true, "other": true}
	validFlag := map[string]bool{"payments": true, "legal": true, "vip": true, "injection": true}
	italian := regexp.MustCompile(`(?i)\b(grazie|buongiorno|buonasera|salve|cordiali|gentile|ciao|spett\.le|ricevi|vorrei)\b`)
	seen := map[string]bool{}
	it := 0
	for _, r := range rows {
		file, intent, ticket, flags := r[0], r[1], r[2], strings.Fields(r[3])
		if seen[file] {
			t.Errorf("%s: listed twice", file)
		}
		seen[file] = true
		m, ok := msgs[file]
		if !ok {
			t.Errorf("%s: in labels.csv but not in labelled/", file)
			continue
		}
		if !validIntent[intent] {
			t.Errorf("%s: intent %q", file, intent)
		}
		intents[intent]++
		if ticket != "yes" && ticket != "no" {
			t.Errorf("%s: ticket %q", file, ticket)
		}
		for _, fl := range flags {
			if !validFlag[fl] {
				t.Errorf("%s: flag %q", file, fl)
			}
		}
		if ticket == "yes" && (intent != "support" || len(flags) > 0) {
			t.Errorf("%s: ticket=yes with intent %s and flags %v: the trigger rule forbids it", file, intent, flags)
		}
		from, err := (&mail.AddressParser{WordDecoder: &mime.WordDecoder{}}).Parse(m.Header.Get("From"))
		if err != nil {
			t.Errorf("%s: From: %v", file, err)
			continue
		}
		addr := strings.ToLower(from.Address)
		isVIP := strings.HasSuffix(addr, "@bigclient.example") || addr == "ceo@client.example"
		if isVIP != slices.Contains(flags, "vip") {
			t.Errorf("%s: flags %v disagree with the VIP list for %s (vip: %v)", file, flags, addr, isVIP)
		}
		body, _ := io.ReadAll(m.Body)
		if italian.Match(body) {
			it++
		}
	}
	for name := range msgs {
		if !seen[name] {
			t.Errorf("%s: in labelled/ but not in labels.csv", name)
		}
	}
	for intent := range validIntent {
		if intents[intent] < 8 {
			t.Errorf("only %d %s rows, want a real sample", intents[intent], intent)
		}
	}
	if share := float64(it) / float64(len(rows)); share < 0.4 || share > 0.6 {
		t.Errorf("%.0f%% of the labelled set reads as Italian, want roughly half", share*100)
	}
}

func TestInjectionCorpusCoversBothLanguages(t *testing.T) {
	msgs := readEMLDir(t, filepath.Join(triageDir, "injection"))
	if len(msgs) < 24 {
		t.Fatalf("injection corpus has %d emails, want at least 24", len(msgs))
	}
	lang := map[string]int{}
	hidden := 0
	for name, m := range msgs {
		lang[name[:2]]++
		body, _ := io.ReadAll(m.Body)
		if regexp.MustCompile(`(?i)display:\s*none|font-size:0|color(:|=)"?#fff|<!--|base64`).Match(append([]byte(m.Header.Get("Content-Transfer-Encoding")), body...)) {
			hidden++
		}
	}
	if lang["en"] < 10 || lang["it"] < 10 {
		t.Errorf("injection corpus languages = %v, want at least 10 en- and 10 it- files", lang)
	}
	if hidden < 6 {
		t.Errorf("%d injection emails hide their payload in HTML or encoding, want at least 6", hidden)
	}
}
