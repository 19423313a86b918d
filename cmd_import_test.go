package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"smista/ui"
)

// TestCLIImport drives "smista import" over the sample mbox and Maildir
// (one corrupt message each), then again: nothing is added twice.
func TestCLIImport(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "s.db")
	mbox := filepath.Join("mail", "testdata", "import", "sample.mbox")
	maildir := filepath.Join("mail", "testdata", "import", "Maildir")

	code, stdout, stderr := runApp(t, dbPath, "import", mbox, maildir)
	if code != 0 {
		t.Fatalf("import: code %d, stderr %q", code, stderr)
	}
	if stdout != "imported 6 new, 0 already present, 2 failed\n" {
		t.Errorf("stdout = %q", stdout)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 2 ||
		!strings.Contains(lines[0], "sample.mbox (message 2 at byte 231): not an email") ||
		!strings.Contains(lines[1], "1700000004.M4P4.host: not an email") {
		t.Errorf("stderr = %q, want one line per corrupt message", stderr)
	}

	code, stdout, _ = runApp(t, dbPath, "import", "--json", mbox, maildir)
	if code != 0 {
		t.Fatalf("re-import: code %d", code)
	}
	var sum ui.ImportSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("--json output %q: %v", stdout, err)
	}
	if sum.New != 0 || sum.Present != 6 || sum.Failed != 2 || len(sum.Failures) != 2 {
		t.Errorf("re-import summary = %+v, want 0 new, 6 present, 2 failed", sum)
	}
}

// TestCLIImportErrors: usage errors exit 2, unreadable paths and inputs
// where every message fails exit 1 with a one-line message.
func TestCLIImportErrors(t *testing.T) {
	garbage := filepath.Join(t.TempDir(), "garbage.eml")
	writeFile(t, garbage, "\x00\x01\x02 not mail")
	tests := map[string]struct {
		args   []string
		code   int
		stderr string
	}{
		"no path":        {[]string{"import"}, 2, "give at least one PATH"},
		"missing path":   {[]string{"import", filepath.Join(t.TempDir(), "nope")}, 1, "no such file or directory"},
		"all failed":     {[]string{"import", garbage}, 1, "none of the 1 messages found could be imported"},
		"unknown flag":   {[]string{"import", "--frob", garbage}, 2, "flag provided but not defined"},
		"partly corrupt": {[]string{"import", filepath.Join("mail", "testdata", "import", "sample.mbox")}, 0, "not an email"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runApp(t, filepath.Join(t.TempDir(), "s.db"), tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("code %d, stderr %q; want %d and %q", code, stderr, tc.code, tc.stderr)
			}
		})
	}
}
