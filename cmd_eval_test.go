package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"smista/app"
	"smista/db"
	"smista/triage"
)

// TestEvalGoldenOnLabelledSet runs "smista eval" on the project's labelled
// set with the VIP list it was labelled with: its report is the golden
// report of the triage package's own evaluation, byte for byte.
func TestEvalGoldenOnLabelledSet(t *testing.T) {
	dir := filepath.Join("testdata", "triage")
	args := []string{"eval", "--labels", filepath.Join(dir, "labels.csv"),
		"--vip", "bigclient.example,ceo@client.example", filepath.Join(dir, "labelled")}
	code, stdout, stderr := runApp(t, filepath.Join(t.TempDir(), "s.db"), args...)
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	want, err := os.ReadFile(filepath.Join("triage", "testdata", "eval", "labelled.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if stdout != string(want) {
		t.Errorf("smista eval differs from triage/testdata/eval/labelled.txt:\n%s", stdout)
	}
	code, stdout, _ = runApp(t, filepath.Join(t.TempDir(), "s.db"), append([]string{"eval", "--json"}, args[1:]...)...)
	var rep struct {
		Emails  int `json:"emails"`
		Tickets struct {
			Precision float64 `json:"precision"`
		} `json:"tickets"`
	}
	if code != 0 || json.NewDecoder(bytes.NewReader([]byte(stdout))).Decode(&rep) != nil || rep.Emails != 136 || rep.Tickets.Precision <= 0 {
		t.Errorf("eval --json: exit %d, %+v from %q", code, rep, stdout)
	}
}

func TestEvalErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "labels.csv"), []byte("file,intent,ticket,flags\na.eml,support,maybe,\n"), 0o644)
	for name, tc := range map[string]struct {
		args []string
		code int
	}{
		"no folder":      {[]string{"eval"}, 2},
		"no labels file": {[]string{"eval", t.TempDir()}, 1},
		"bad labels":     {[]string{"eval", dir}, 1},
		"two folders":    {[]string{"eval", dir, dir}, 2},
	} {
		t.Run(name, func(t *testing.T) {
			if code, _, stderr := runApp(t, filepath.Join(t.TempDir(), "s.db"), tc.args...); code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, stderr)
			}
		})
	}
}

// "smista learning" shows, exports and resets what the corrections taught.
func TestLearningCommand(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "s.db")
	code, stdout, stderr := runApp(t, dbPath, "learning")
	if code != 0 || !strings.Contains(stdout, "0 correction(s) learned") {
		t.Fatalf("learning on a fresh store: exit %d, %q %q", code, stdout, stderr)
	}
	code, stdout, _ = runApp(t, dbPath, "learning", "export")
	if code != 0 || !strings.HasPrefix(stdout, "SMISTA-ADAPTIVE-1\n") {
		t.Errorf("export: exit %d, %q", code, stdout)
	}
	if code, stdout, _ = runApp(t, dbPath, "learning", "reset"); code != 0 || !strings.Contains(stdout, "reset") {
		t.Errorf("reset: exit %d, %q", code, stdout)
	}
	if code, _, _ = runApp(t, dbPath, "learning", "forget"); code != 2 {
		t.Errorf("an unknown subcommand: exit %d, want 2", code)
	}
}

// "smista eval --store" scores the classifier on the emails a person
// corrected in this store.
func TestEvalOnTheStoresLabels(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "s.db")
	if code, _, stderr := runApp(t, dbPath, "eval", "--store"); code != 1 || !strings.Contains(stderr, "no labelled email") {
		t.Fatalf("eval --store on an empty store: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runApp(t, dbPath, "import", filepath.Join("testdata", "triage", "labelled", "003.eml"),
		filepath.Join("testdata", "triage", "labelled", "004.eml")); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	ctx := context.Background()
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Options{Store: d})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := d.TriageQueue(ctx, true)
	if err != nil || len(ids) != 2 {
		t.Fatalf("%d messages (%v)", len(ids), err)
	}
	for _, id := range ids {
		if err := a.CorrectIntent(ctx, id, triage.IntentSupport, "giulia"); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	code, stdout, stderr := runApp(t, dbPath, "eval", "--store")
	if code != 0 || !strings.HasPrefix(stdout, "emails 2, threshold 0.80") {
		t.Fatalf("eval --store: exit %d, %q %q", code, stdout, stderr)
	}
}
