package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"

	"smista/db"
	"smista/mail"
	"smista/ui"
)

// runDemoEnv runs "smista demo ARGS..." in-process with buffers and env.
func runDemoEnv(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}
	code := m.Run(context.Background(), append([]string{"demo"}, args...))
	return code, out.String(), errb.String()
}

func TestDemoHeadlessPrintsSummaryAndInbox(t *testing.T) {
	raws, err := mail.DemoCorpus()
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runDemoEnv(t, map[string]string{"HOME": t.TempDir()}, "--headless", "--keep")
	if code != 0 {
		t.Fatalf("demo --headless: exit %d, stderr %q", code, stderr)
	}
	m := regexp.MustCompile(`database kept at (\S+)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no kept path on stderr: %q", stderr)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(m[1])) })

	// The summary's counts are the store's: check them against the kept DB.
	d, err := db.Open(context.Background(), m[1])
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err := d.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.Tickets == 0 {
		t.Fatal("the demo suggested no ticket")
	}
	for _, want := range []string{
		"messages synced:        40",
		"tickets suggested:      " + strconv.Itoa(c.Tickets),
		"deliveries delivered:   " + strconv.Itoa(c.WebhooksDelivered),
		"drafts waiting:         " + strconv.Itoa(c.DraftsPending),
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	if c.Triaged != len(raws) {
		t.Errorf("%d messages triaged, want %d", c.Triaged, len(raws))
	}

	// The inbox table: header, one row per message, footer.
	_, table, ok := strings.Cut(stdout, "\n\n")
	if !ok {
		t.Fatalf("no blank line between summary and inbox:\n%s", stdout)
	}
	lines := strings.Split(strings.TrimRight(table, "\n"), "\n")
	if len(lines) != len(raws)+2 {
		t.Fatalf("inbox has %d lines, want header + %d rows + footer:\n%s", len(lines), len(raws), table)
	}
	if !strings.HasPrefix(lines[0], "DATE") || !strings.Contains(lines[0], "ACTION") {
		t.Errorf("header = %q", lines[0])
	}
	rows := lines[1 : len(lines)-1]
	var vipRow string
	for _, r := range rows {
		if w := runewidth.StringWidth(r); w > ui.DefaultTableWidth {
			t.Errorf("row is %d columns wide, want at most %d: %q", w, ui.DefaultTableWidth, r)
		}
		if strings.Contains(r, "Catherine Hale") {
			vipRow = r
		}
	}
	// The VIP customer's mail is flagged and never an automatic ticket.
	if !strings.Contains(vipRow, "vip") || strings.Contains(vipRow, "ticket") {
		t.Errorf("VIP row = %q, want the vip flag and no ticket", vipRow)
	}
	if strings.ContainsRune(stdout, 0x1b) {
		t.Error("an escape sequence reached the output")
	}
}

func TestDemoRejectsArguments(t *testing.T) {
	tests := map[string]struct {
		args []string
		code int
	}{
		"unknown flag":   {[]string{"--frobnicate"}, 2},
		"stray argument": {[]string{"inbox"}, 2},
		"negative flaky": {[]string{"--flaky", "-1"}, 2},
		"help":           {[]string{"--help"}, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, stdout, _ := runDemoEnv(t, nil, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}
