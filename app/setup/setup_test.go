package setup_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"smista/app"
	"smista/app/config"
	"smista/app/setup"
	"smista/db/dbtest"
	"smista/mail/mailtest"
)

// The steps of Finish are reported in order, each once, with what the
// user needs (the endpoint's secret) and never the password; a second
// Finish on the written file refuses to replace it and reports nothing.
func TestFinishReportsEachStep(t *testing.T) {
	const pw = "setup-pw"
	srv, err := mailtest.StartIMAP("desk@setup.example", pw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	var hits atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(rcv.Close)
	host, port, _ := strings.Cut(srv.Addr, ":")
	p, _ := strconv.Atoi(port)

	var steps []setup.Step
	env := setup.Env{
		Getenv:   env{"SETUP_PW": pw, "HOME": t.TempDir()}.get,
		Now:      time.Now,
		Progress: func(s setup.Step) { steps = append(steps, s) },
		OpenApp: func(ctx context.Context, cfg config.Config) (*app.App, error) {
			opts := cfg.AppOptions(time.Now)
			opts.Store = dbtest.MustOpen(t)
			return app.New(opts)
		},
	}
	s := config.Setup{Account: "desk", Address: "desk@setup.example", Provider: "generic",
		IMAP: config.ServerDefaults{Host: host, Port: p, TLS: "insecure"}, SMTP: config.ServerDefaults{Host: host, Port: 1, TLS: "insecure"},
		Username: "desk@setup.example", Auth: "password", PasswordEnv: "SETUP_PW", TriageProvider: "offline"}
	path := filepath.Join(t.TempDir(), "config.toml")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	try, err := env.Finish(ctx, path, false, s, rcv.URL+"/hook")
	if err != nil {
		t.Fatal(err)
	}
	if try == nil || !try.Outcome.Result.OK() || hits.Load() != 1 {
		t.Fatalf("test event: %+v, receiver saw %d requests; want one delivered", try, hits.Load())
	}
	if len(steps) != 3 {
		t.Fatalf("steps %#v: want Wrote, LoggedIn, EndpointAdded", steps)
	}
	wrote, ok1 := steps[0].(setup.Wrote)
	in, ok2 := steps[1].(setup.LoggedIn)
	ep, ok3 := steps[2].(setup.EndpointAdded)
	if !ok1 || !ok2 || !ok3 || wrote.Path != path || in.Addr != srv.Addr || in.Username != "desk@setup.example" ||
		ep.ID != try.Outcome.Delivery.EndpointID || !strings.HasPrefix(ep.Secret, "whsec_") {
		t.Fatalf("steps %#v", steps)
	}
	for _, st := range steps {
		if strings.Contains(fmt.Sprintf("%#v", st), pw) {
			t.Fatalf("a step carries the password: %#v", st)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v, %v; want mode 0600", fi, err)
	}

	steps = nil
	if _, err := env.Finish(ctx, path, false, s, ""); !errors.Is(err, config.ErrExists) || len(steps) != 0 {
		t.Fatalf("second Finish: %v, steps %#v; want ErrExists and none", err, steps)
	}
}

func TestReauthRefuses(t *testing.T) {
	cfg := config.Default()
	cfg.Accounts = []config.AccountConfig{{Name: "work", IMAP: config.ServerConfig{Auth: "password"}}}
	env := setup.Env{Getenv: env{}.get, Now: time.Now}
	for name, account := range map[string]string{"unknown account": "home", "password account": "work"} {
		t.Run(name, func(t *testing.T) {
			err := env.Reauth(context.Background(), cfg, account, "")
			if err == nil || !strings.Contains(err.Error(), strconv.Quote(account)) {
				t.Fatalf("Reauth(%q): %v, want an error naming it", account, err)
			}
		})
	}
}

type env map[string]string

func (e env) get(k string) string { return e[k] }
