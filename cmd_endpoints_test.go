package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

// A secret given on stdin or in a file (never on the command line, where
// ps shows it) is the one that signs.
func TestEndpointsAddSecretFromStdinOrFile(t *testing.T) {
	for _, via := range []string{"stdin", "file"} {
		t.Run(via, func(t *testing.T) {
			rv := newVerifyingReceiver(t)
			secret, _ := webhook.GenerateSecret()
			rv.mu.Lock()
			rv.secret = secret
			rv.mu.Unlock()
			dbPath := filepath.Join(t.TempDir(), "s.db")
			var out, errb bytes.Buffer
			m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, DBPath: dbPath}
			args := []string{"endpoints", "add", rv.srv.URL + "/hook", "--secret-file"}
			if via == "stdin" {
				m.Stdin = strings.NewReader(secret + "\n")
				args = append(args, "-")
			} else {
				f := filepath.Join(t.TempDir(), "secret")
				if err := os.WriteFile(f, []byte(secret+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, f)
			}
			if code := m.Run(context.Background(), args); code != 0 {
				t.Fatalf("add: exit %d: %s", code, errb.String())
			}
			id := strings.TrimSpace(out.String())
			if strings.Contains(out.String(), "whsec_") {
				t.Fatalf("a given secret was printed back: %q", out.String())
			}
			out.Reset()
			if code := m.Run(context.Background(), []string{"endpoints", "test", id}); code != 0 {
				t.Fatalf("test: exit %d: %s %s", code, out.String(), errb.String())
			}
			if ids, bad := rv.seen(); len(ids) != 1 || bad != 0 {
				t.Fatalf("receiver verified %d, rejected %d: want the given secret to sign", len(ids), bad)
			}
		})
	}
}

// A ticket decided before any endpoint existed is announced when one is
// added, queued by backfill, and delivered, verified, by the sender.
func TestEndpointsBackfillDeliversStuckTickets(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "s.db")
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	dbtest.SeedTicket(t, d, "Login broken")
	d.Close()
	rv := newVerifyingReceiver(t)
	secret, _ := webhook.GenerateSecret()
	rv.mu.Lock()
	rv.secret = secret
	rv.mu.Unlock()
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, DBPath: dbPath,
		Stdin: strings.NewReader(secret)}
	if code := m.Run(ctx, []string{"endpoints", "add", rv.srv.URL + "/hook", "--secret-file", "-"}); code != 0 {
		t.Fatalf("add: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "1 ticket(s) have no delivery") {
		t.Errorf("add does not announce the stuck ticket: %q", errb.String())
	}
	out.Reset()
	if code := m.Run(ctx, []string{"endpoints", "backfill"}); code != 0 || !strings.HasPrefix(out.String(), "1 ticket(s) queued") {
		t.Fatalf("backfill: exit %d, %q", code, out.String())
	}
	if code := m.Run(ctx, []string{"send", "--once"}); code != 0 {
		t.Fatalf("send: exit %d: %s", code, errb.String())
	}
	if ids, bad := rv.seen(); len(ids) != 1 || bad != 0 {
		t.Fatalf("receiver verified %d, rejected %d; want the stuck ticket once", len(ids), bad)
	}
}

// An unknown signing scheme is a usage error (exit 2) that stores nothing,
// for add and for rotate.
func TestEndpointsBadScheme(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "s.db")
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, DBPath: dbPath}
	if code := m.Run(context.Background(), []string{"endpoints", "add", "http://127.0.0.1:9/x", "--scheme", "v2"}); code != 2 {
		t.Fatalf("add --scheme v2: exit %d, want 2: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "--scheme") {
		t.Fatalf("stderr %q does not name --scheme", errb.String())
	}
	if code := m.Run(context.Background(), []string{"endpoints", "add", "http://127.0.0.1:9/x"}); code != 0 {
		t.Fatalf("add: exit %d: %s", code, errb.String())
	}
	id := strings.Fields(out.String())[0]
	d, err := db.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	before, err := d.Endpoint(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if code := m.Run(context.Background(), []string{"endpoints", "rotate", id, "--scheme", "v3"}); code != 2 {
		t.Fatalf("rotate --scheme v3: exit %d, want 2: %s", code, errb.String())
	}
	eps, err := d.Endpoints(context.Background())
	if err != nil || len(eps) != 1 || eps[0].Scheme != before.Scheme {
		t.Fatalf("endpoints after the refused commands: %+v, %v (want the one added, scheme %s)", eps, err, before.Scheme)
	}
}
