package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"smista/app"
	"smista/app/config"
	"smista/db"
)

// fixedNow is the clock of the same-state tests: both sides must compute
// the same rotation deadline. It is today's (a store erases a previous
// secret whose grace period ended by the real clock when it opens).
var fixedNow = time.Now().UTC().Truncate(time.Millisecond)

// cliAndApp returns a Main on one store (the CLI side) and an App wired by
// the same configuration on another (what the TUI and the team server
// call), both on fixedNow.
func cliAndApp(t *testing.T) (*Main, *bytes.Buffer, *bytes.Buffer, *app.App) {
	t.Helper()
	var out, errb bytes.Buffer
	env := map[string]string{"HOME": t.TempDir()}
	m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] },
		Now: func() time.Time { return fixedNow }, DBPath: filepath.Join(t.TempDir(), "cli.db")}
	other := &Main{Getenv: m.Getenv, Now: m.Now, DBPath: filepath.Join(t.TempDir(), "app.db")}
	a, err := other.appFor(context.Background(), config.Default(), wiring{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return m, &out, &errb, a
}

// endpointsOf lists the endpoints stored at path.
func endpointsOf(t *testing.T, path string) []db.Endpoint {
	t.Helper()
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.Now = func() time.Time { return fixedNow } // a rotation shows while it lasts
	eps, err := d.Endpoints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return eps
}

// TestCLIAndAppLeaveTheSameState runs each endpoint operation once through
// the CLI and once through the App the TUI calls: the same refusal, the
// same stored URL, the same rotation.
func TestCLIAndAppLeaveTheSameState(t *testing.T) {
	ctx := context.Background()
	t.Run("refused address", func(t *testing.T) {
		m, _, errb, a := cliAndApp(t)
		const url = "http://169.254.169.254/latest/meta-data"
		code := m.Run(ctx, []string{"endpoints", "add", url})
		_, appErr := a.AddEndpoint(ctx, url, "")
		if code != 1 || appErr == nil {
			t.Fatalf("CLI exit %d, App error %v: both must refuse", code, appErr)
		}
		if got := strings.TrimSpace(errb.String()); got != "smista endpoints: "+appErr.Error() {
			t.Errorf("CLI says %q, App says %q: one operation, one message", got, appErr)
		}
		if n := len(endpointsOf(t, m.DBPath)); n != 0 {
			t.Errorf("CLI stored %d endpoints after a refusal", n)
		}
		if eps, _ := a.Store().Endpoints(ctx); len(eps) != 0 {
			t.Errorf("App stored %d endpoints after a refusal", len(eps))
		}
	})
	t.Run("normalised URL and rotation", func(t *testing.T) {
		m, out, _, a := cliAndApp(t)
		const url = "HTTP://127.0.0.1:9/Hook"
		if code := m.Run(ctx, []string{"endpoints", "add", url}); code != 0 {
			t.Fatalf("CLI add: exit %d", code)
		}
		cliID := strings.SplitN(out.String(), "\n", 2)[0]
		ep, err := a.AddEndpoint(ctx, url, "")
		if err != nil {
			t.Fatal(err)
		}
		if code := m.Run(ctx, []string{"endpoints", "rotate", cliID}); code != 0 {
			t.Fatalf("CLI rotate: exit %d", code)
		}
		if _, _, err := a.RotateSecret(ctx, ep.ID); err != nil {
			t.Fatal(err)
		}
		cli := endpointsOf(t, m.DBPath)
		direct, err := a.Store().Endpoints(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(cli) != 1 || len(direct) != 1 {
			t.Fatalf("CLI stored %d endpoints, App %d; want 1 each", len(cli), len(direct))
		}
		c, d := cli[0], direct[0]
		if c.URL != "http://127.0.0.1:9/Hook" || c.URL != d.URL {
			t.Errorf("stored URLs: CLI %q, App %q; want both normalised to http://127.0.0.1:9/Hook", c.URL, d.URL)
		}
		want := fixedNow.Add(24 * time.Hour)
		if !c.RotatingUntil.Equal(want) || !d.RotatingUntil.Equal(want) {
			t.Errorf("rotation until: CLI %v, App %v; want %v", c.RotatingUntil, d.RotatingUntil, want)
		}
		if c.Enabled != d.Enabled {
			t.Errorf("enabled: CLI %v, App %v", c.Enabled, d.Enabled)
		}
	})
}
