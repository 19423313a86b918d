package triage_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"smista/triage"
)

// loadDomains reads every domain file of traindata/domains.
func loadDomains(tb testing.TB) []triage.DomainSet {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join("traindata", "domains", "*.txt"))
	if err != nil || len(names) == 0 {
		tb.Fatalf("no traindata/domains/*.txt: %v", err)
	}
	slices.Sort(names)
	var out []triage.DomainSet
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			tb.Fatal(err)
		}
		set, err := triage.ParseDomainMail(filepath.Base(n), b)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, set)
	}
	return out
}

// TestDomainFiles checks the labels of the written domains the way
// mail/demo_test.go checks the labelled set: ticket=yes only on unflagged
// support, the vip flag exactly on the VIP list's senders, every email
// with a sender and a subject, and enough of each intent to evaluate a
// domain on its own.
func TestDomainFiles(t *testing.T) {
	for _, set := range loadDomains(t) {
		count := map[triage.Intent]int{}
		for _, ex := range set.Examples {
			count[ex.Intent]++
			m := ex.Message
			if m.From.Addr == "" || m.Subject == "" || len(m.Text) < 10 {
				t.Errorf("%s: no sender, subject or body", ex.Name)
			}
			if ex.Ticket && (ex.Intent != triage.IntentSupport || len(ex.Flags) > 0) {
				t.Errorf("%s: ticket=yes on %s with flags %v", ex.Name, ex.Intent, ex.Flags)
			}
			vip := slices.Contains(triage.Flags(m, triage.Context{VIP: set.VIP}), triage.FlagVIP)
			if vip != slices.Contains(ex.Flags, triage.FlagVIP) {
				t.Errorf("%s: vip flag %v but From %s (VIP list %v)", ex.Name, slices.Contains(ex.Flags, triage.FlagVIP), m.From.Addr, set.VIP)
			}
		}
		for _, in := range triage.Intents {
			if count[in] < 3 {
				t.Errorf("%s: only %d %s emails", set.Domain, count[in], in)
			}
		}
		t.Logf("%-12s %3d emails %v", set.Domain, len(set.Examples), count)
	}
}

func TestParseDomainMailErrors(t *testing.T) {
	for name, data := range map[string]string{
		"empty":          "# nothing\n",
		"text before":    "hello\n%% support yes\nFrom: a@b.example\nSubject: x\n\nbody\n",
		"unknown intent": "%% complaint yes\nFrom: a@b.example\nSubject: x\n\nbody\n",
		"bad ticket":     "%% support maybe\nFrom: a@b.example\nSubject: x\n\nbody\n",
		"unknown flag":   "%% support no urgent\nFrom: a@b.example\nSubject: x\n\nbody\n",
		"no body":        "%% support yes\nFrom: a@b.example\nSubject: x\n",
	} {
		if _, err := triage.ParseDomainMail("x.txt", []byte(data)); !errors.Is(err, triage.ErrBadLabels) {
			t.Errorf("%s: err %v, want ErrBadLabels", name, err)
		}
	}
	set, err := triage.ParseDomainMail("d.txt", []byte("%vip v.example\n%% billing no payments vip\nFrom: a@v.example\nSubject: x\nContent-Type: text/html\n\n<p>refund <b>please</b></p>\n"))
	if err != nil || set.Domain != "d" || len(set.Examples) != 1 || set.Examples[0].Name != "d:1" || set.VIP[0] != "v.example" {
		t.Fatalf("%v %+v", err, set)
	}
	if m := set.Examples[0].Message; m.HTML == "" || m.Text == "" || len(set.Examples[0].Flags) != 2 {
		t.Errorf("html %q text %q flags %v", m.HTML, m.Text, set.Examples[0].Flags)
	}
}
