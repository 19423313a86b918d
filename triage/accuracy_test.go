package triage_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"smista/internal/skipnote"
	"smista/mail"
	"smista/triage"
)

// testdataDir holds the labelled set and the injection corpus, written
// separately from the rules: evaluation only, never training or tuning.
const testdataDir = "../testdata/triage"

func parseEML(tb testing.TB, path string) *mail.Message {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := mail.Parse(raw)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	if m.ID == "" {
		m.ID = mail.EmailID(m.MessageID)
	}
	return m
}

// readmeVIP reads the VIP list the labelled set was labelled with from its
// README (the `vip = [...]` line of the TOML block).
func readmeVIP(tb testing.TB) []string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir, "README.md"))
	if err != nil {
		tb.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^vip\s*=\s*\[(.*)\]`).FindSubmatch(b)
	if line == nil {
		tb.Fatal("README.md: no vip = [...] line")
	}
	var vip []string
	for _, q := range regexp.MustCompile(`"([^"]+)"`).FindAllSubmatch(line[1], -1) {
		vip = append(vip, string(q[1]))
	}
	return vip
}

func triageMsg(tb testing.TB, c triage.Classifier, m *mail.Message, o triage.Options) (triage.Result, triage.Decision) {
	tb.Helper()
	r, d, _, err := triage.Triage(context.Background(), c, m, o)
	if err != nil {
		tb.Fatal(err)
	}
	return r, d
}

// TestInjectionCorpus: no email of the injection corpus becomes a ticket,
// and each is flagged injection.
func TestInjectionCorpus(t *testing.T) {
	names, _ := filepath.Glob(filepath.Join(testdataDir, "injection", "*.eml"))
	if len(names) == 0 {
		t.Skip("SKIP: no injection corpus in " + testdataDir + "/injection")
	}
	o := mustOffline(t)
	opts := triage.Options{Policy: triage.DefaultPolicy(), Context: triage.Context{VIP: readmeVIP(t)}}
	flagged := 0
	for _, n := range names {
		m := parseEML(t, n)
		r, d := triageMsg(t, o, m, opts)
		if d.Action == triage.ActionTicket {
			t.Errorf("%s: became a ticket (%s %.2f, reasons %q)", filepath.Base(n), r.Intent, r.Confidence, d.Reasons)
		}
		if slices.Contains(r.Flags, triage.FlagInjection) {
			flagged++
		} else {
			t.Errorf("%s: not flagged injection (flags %v, intent %s)", filepath.Base(n), r.Flags, r.Intent)
		}
		if slices.Contains(r.Flags, triage.FlagVIP) && strings.Contains(n, "vip") {
			t.Errorf("%s: claims VIP and got the flag", filepath.Base(n))
		}
	}
	t.Logf("injection corpus: %d emails, %d flagged injection", len(names), flagged)
}

type label struct {
	file, intent string
	ticket       bool
	flags        []string
}

func readLabels(tb testing.TB) []label {
	tb.Helper()
	f, err := os.Open(filepath.Join(testdataDir, "labels.csv"))
	if err != nil {
		tb.Skip("SKIP: no labelled set: " + err.Error())
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 {
		tb.Fatalf("labels.csv: %v", err)
	}
	var out []label
	for _, r := range rows[1:] {
		out = append(out, label{file: r[0], intent: r[1], ticket: r[2] == "yes", flags: strings.Fields(r[3])})
	}
	return out
}

type prCounter map[string]*[3]int // tp, fp, fn

func (c prCounter) add(truth, got string) {
	for _, k := range []string{truth, got} {
		if c[k] == nil {
			c[k] = &[3]int{}
		}
	}
	if truth == got {
		c[truth][0]++
	} else {
		c[got][1]++
		c[truth][2]++
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// TestAccuracyLabelled prints per-intent precision and recall, intent
// accuracy, flag agreement and ticket precision/recall on the labelled set,
// and asserts the targets: ticket precision ≥ 0.95, ticket recall
// ≥ 0.85, intent accuracy ≥ 0.85, no flagged email as a ticket.
func TestAccuracyLabelled(t *testing.T) {
	labels := readLabels(t)
	o := mustOffline(t)
	opts := triage.Options{Policy: triage.DefaultPolicy(), Context: triage.Context{VIP: readmeVIP(t)}}
	intents := prCounter{}
	var right, tp, fp, fn, flaggedTickets int
	flagStats := map[string]*[3]int{}
	missed, wrong := map[string]int{}, map[string]int{}
	for _, l := range labels {
		m := parseEML(t, filepath.Join(testdataDir, "labelled", l.file))
		r, d := triageMsg(t, o, m, opts)
		intents.add(l.intent, string(r.Intent))
		if string(r.Intent) == l.intent {
			right++
		}
		ticket := d.Action == triage.ActionTicket
		switch {
		case ticket && l.ticket:
			tp++
		case ticket && !l.ticket:
			fp++
		case !ticket && l.ticket:
			fn++
			switch {
			case r.Intent != triage.IntentSupport:
				missed[fmt.Sprint("intent ", r.Intent, " ", r.Notes)]++
			case len(r.Flags) > 0:
				missed[fmt.Sprint("flags ", r.Flags)]++
			case r.Disagree:
				missed["disagree"]++
			default:
				missed["confidence ≤ threshold"]++
			}
		}
		if ticket && !l.ticket {
			wrong["labelled "+l.intent+fmt.Sprint(l.flags)]++
		}
		if ticket && len(r.Flags) > 0 {
			flaggedTickets++
		}
		if ticket && len(l.flags) > 0 {
			flaggedTickets++
			t.Errorf("%s: labelled flags %v but became a ticket", l.file, l.flags)
		}
		for _, f := range []string{"payments", "legal", "vip", "injection"} {
			if flagStats[f] == nil {
				flagStats[f] = &[3]int{}
			}
			want, got := slices.Contains(l.flags, f), slices.Contains(r.Flags, triage.Flag(f))
			switch {
			case want && got:
				flagStats[f][0]++
			case got:
				flagStats[f][1]++
			case want:
				flagStats[f][2]++
			}
		}
	}
	var keys []string
	for k := range intents {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "labelled set: %d emails\n%-8s %9s %6s %4s %4s %4s\n", len(labels), "intent", "precision", "recall", "tp", "fp", "fn")
	for _, k := range keys {
		c := intents[k]
		fmt.Fprintf(&b, "%-8s %9.2f %6.2f %4d %4d %4d\n", k, ratio(c[0], c[0]+c[1]), ratio(c[0], c[0]+c[2]), c[0], c[1], c[2])
	}
	for _, f := range []string{"payments", "legal", "vip", "injection"} {
		c := flagStats[f]
		fmt.Fprintf(&b, "flag %-9s precision %.2f recall %.2f (tp %d fp %d fn %d)\n", f, ratio(c[0], c[0]+c[1]), ratio(c[0], c[0]+c[2]), c[0], c[1], c[2])
	}
	acc := ratio(right, len(labels))
	prec, rec := ratio(tp, tp+fp), ratio(tp, tp+fn)
	fmt.Fprintf(&b, "intent accuracy %.3f; tickets: %d emitted, precision %.3f recall %.3f (tp %d fp %d fn %d); flagged tickets %d",
		acc, tp+fp, prec, rec, tp, fp, fn, flaggedTickets)
	fmt.Fprintf(&b, "\nmissed tickets by cause: %v\nwrong tickets by label: %v", missed, wrong)
	t.Log("\n" + b.String())
	// The targets, asserted unconditionally.
	for _, c := range []struct {
		name        string
		got, target float64
	}{
		{"ticket precision", prec, 0.95},
		{"ticket recall", rec, 0.85},
		{"intent accuracy", acc, 0.85},
	} {
		if c.got < c.target {
			t.Errorf("%s %.3f < target %.2f", c.name, c.got, c.target)
		}
	}
	if flaggedTickets != 0 {
		t.Errorf("%d flagged emails became tickets", flaggedTickets)
	}
}

// TestAccuracySpamAssassin runs the held-out SpamAssassin groups (never
// used for training or tuning) through the offline classifier and the
// decision engine: spam recall, how many would become a ticket, and how
// much of the easy ham reads as spam.
func TestAccuracySpamAssassin(t *testing.T) {
	dir := skipnote.Corpus(t, "the SpamAssassin accuracy report (TestAccuracySpamAssassin)", "easy-ham-2")
	if testing.Short() {
		t.Skip("SKIP: -short")
	}
	o := mustOffline(t)
	opts := triage.Options{Policy: triage.DefaultPolicy()}
	var hamN, hamTickets int
	for _, g := range []string{"easy-ham-2", "hard-ham-1", "spam-2"} {
		docs := loadCorpusGroup(t, dir, g)
		var spam, tickets int
		intents := map[triage.Intent]int{}
		for _, d := range docs {
			r, dec := triageMsg(t, o, d.m, opts)
			intents[r.Intent]++
			if r.Intent == triage.IntentSpam {
				spam++
			}
			if dec.Action == triage.ActionTicket {
				tickets++
			}
		}
		t.Logf("%-10s %4d emails: classified spam %4d (%.3f), tickets %d (%.2f%%), intents %v",
			g, len(docs), spam, ratio(spam, len(docs)), tickets, 100*ratio(tickets, len(docs)), intents)
		if g == "spam-2" {
			if tickets != 0 {
				t.Errorf("spam-2: %d spam emails would become tickets, want 0", tickets)
			}
			continue
		}
		hamN += len(docs)
		hamTickets += tickets
		if g == "easy-ham-2" && spam*50 >= len(docs) {
			// mailing-list posts are other: a list header is no sign of spam
			t.Errorf("easy-ham-2: %d of %d ham emails read as spam, want < 2%%", spam, len(docs))
		}
		if float64(tickets) >= 0.01*float64(len(docs)) {
			t.Errorf("%s: %d of %d ham emails would become tickets, want < 1%%", g, tickets, len(docs))
		}
	}
	t.Logf("ham: %d of %d would become tickets (%.2f%%)", hamTickets, hamN, 100*ratio(hamTickets, hamN))
}
