package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"smista/db"
	"smista/mail"
	"smista/mail/mailtest"
)

// doctorSetup is one setup the doctor examines.
type doctorSetup struct {
	imap        mail.ServerConfig // host, port and user of the IMAP server
	imapPW      string            // what password_env yields
	smtp        *mailtest.SMTPSink
	endpoint    string // URL stored as an endpoint ("" none)
	extraConfig string
	leaseHolder string // a sender holding the lease ("" none)
}

// runDoctorOn writes a config for s, stores its endpoint, runs "smista
// doctor" with args and returns the exit status and stdout.
func runDoctorOn(t *testing.T, s doctorSetup, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	sm := s.smtp.Config()
	writeFile(t, cfg, fmt.Sprintf(`%s
[[account]]
name = "work"
from = "Support <agent@example.com>"
imap = { host = %q, port = %d, tls = "insecure", username = %q, password_env = "SMISTA_TEST_IMAP_PW" }
smtp = { host = %q, port = %d, tls = "insecure", username = "agent@example.com", password_env = "SMISTA_TEST_SMTP_PW" }
`, s.extraConfig, s.imap.Host, s.imap.Port, s.imap.Username, sm.Host, sm.Port))
	dbPath := filepath.Join(dir, "smista.db")
	if s.leaseHolder != "" {
		d, err := db.Open(ctx, dbPath)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, err := d.AcquireLease(ctx, db.LeaseSender, db.LeaseRequest{Owner: "o1", Holder: s.leaseHolder,
			Host: "elsewhere", PID: 1, TTL: time.Hour}); err != nil || !ok {
			t.Fatalf("lease: %v %v", ok, err)
		}
		d.Close()
	}
	if s.endpoint != "" {
		d, err := db.Open(ctx, dbPath)
		if err != nil {
			t.Fatal(err)
		}
		d.IDs = func(prefix string) string { return prefix + "doctor1" }
		if _, err := d.CreateEndpoint(ctx, s.endpoint, "whsec_"+strings.Repeat("A", 32)); err != nil {
			t.Fatal(err)
		}
		d.Close()
	}
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr, DBPath: dbPath, ConfigPath: cfg,
		Getenv: func(k string) string {
			return map[string]string{"SMISTA_TEST_IMAP_PW": s.imapPW, "SMISTA_TEST_SMTP_PW": "smtp-pw"}[k]
		}}
	code := m.Run(ctx, append([]string{"doctor"}, args...))
	return code, normalizeDoctor(stdout.String(), dir), stderr.String()
}

// normalizeDoctor replaces what changes from run to run: the temp folder,
// ports, sizes, the schema version (it grows with every migration).
func normalizeDoctor(s, dir string) string {
	s = strings.ReplaceAll(s, dir, "$TMP")
	for re, repl := range map[*regexp.Regexp]string{
		regexp.MustCompile(`127\.0\.0\.1:\d+`):         "127.0.0.1:PORT",
		regexp.MustCompile(`\d+(\.\d+)? (KiB|MiB|B),`): "SIZE,",
		regexp.MustCompile(`schema \d+ of \d+`):        "schema N of N",
	} {
		s = re.ReplaceAllString(s, repl)
	}
	return s
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "doctor", name+".golden")
	if updating() {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update)", err, t.Name())
	}
	if got != string(want) {
		t.Fatalf("doctor output differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func startSMTPWithAuth(t *testing.T) *mailtest.SMTPSink {
	t.Helper()
	sink, err := mailtest.StartSMTP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	sink.RequireAuth("agent@example.com", "smtp-pw")
	return sink
}

func receiver(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	return srv
}

// closedURL is a loopback URL on which nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/hook"
}

func TestDoctorHealthyOnDovecot(t *testing.T) {
	if _, err := mailtest.DovecotBinary(); err != nil {
		t.Skip("SKIP: dovecot is not installed, the healthy doctor golden did NOT run (apt-get install dovecot-imapd; .ci/run does)")
	}
	// Not t.TempDir: as root Dovecot's mail user must traverse the path,
	// and TempDir's parent is 0700.
	dir, err := os.MkdirTemp("", "smista-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	dv, err := mailtest.StartDovecot(context.Background(), dir, "agent")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dv.Close() })
	if err := dv.Deliver("INBOX", []byte("From: a@example.org\r\nSubject: hi\r\nMessage-ID: <d1@example.org>\r\n\r\nhi\r\n")); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runDoctorOn(t, doctorSetup{imap: dv.Config(), imapPW: mailtest.DovecotPassword,
		smtp: startSMTPWithAuth(t), endpoint: receiver(t).URL + "/hook"})
	if code != 0 {
		t.Fatalf("exit %d, stderr %s\n%s\ndovecot log: %s", code, stderr, out, dv.Log())
	}
	checkGolden(t, "healthy", out)
}

func TestDoctorFailures(t *testing.T) {
	imapSrv, err := mailtest.StartIMAP("agent@example.com", "right-pw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { imapSrv.Close() })
	smtpSink := startSMTPWithAuth(t)
	ok := receiver(t).URL + "/hook"
	for name, tc := range map[string]struct {
		setup    doctorSetup
		wantCode int
	}{
		// The in-process server has no CONDSTORE: a warning, not a failure.
		"no-condstore":    {doctorSetup{imapPW: "right-pw", endpoint: ok}, 0},
		"wrong-password":  {doctorSetup{imapPW: "wrong-pw", endpoint: ok}, 1},
		"unreachable":     {doctorSetup{imapPW: "right-pw", endpoint: closedURL(t)}, 1},
		"refused-address": {doctorSetup{imapPW: "right-pw", endpoint: ok, extraConfig: "[webhook]\nallow_private = false\n"}, 1},
		"missing-api-key": {doctorSetup{imapPW: "right-pw", endpoint: ok, extraConfig: "[triage]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\n"}, 1},
		"no-endpoint-yet": {doctorSetup{imapPW: "right-pw"}, 0},
	} {
		t.Run(name, func(t *testing.T) {
			tc.setup.imap, tc.setup.smtp = imapSrv.Config(), smtpSink
			code, out, stderr := runDoctorOn(t, tc.setup)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr %s\n%s", code, tc.wantCode, stderr, out)
			}
			if strings.Contains(out, tc.setup.imapPW) || strings.Contains(out, "smtp-pw") {
				t.Fatalf("a password in the report:\n%s", out)
			}
			checkGolden(t, name, out)
		})
	}
}

func TestDoctorJSON(t *testing.T) {
	imapSrv, err := mailtest.StartIMAP("agent@example.com", "pw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { imapSrv.Close() })
	code, out, _ := runDoctorOn(t, doctorSetup{imap: imapSrv.Config(), imapPW: "bad", smtp: startSMTPWithAuth(t)}, "--json")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var c struct{ Check, Status, Detail, Fix string }
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		names = append(names, c.Check+"="+c.Status)
	}
	want := "config=ok database=ok imap work=fail smtp work=ok llm=ok endpoints=warn sender lease=ok"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("checks %q, want %q", got, want)
	}
}

// The doctor sends no event unless asked, and with --send-test the
// receiver gets one it can verify.
func TestDoctorSendTest(t *testing.T) {
	imapSrv, err := mailtest.StartIMAP("agent@example.com", "pw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { imapSrv.Close() })
	got := make(chan string, 4)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("webhook-id")
	}))
	t.Cleanup(rcv.Close)
	s := doctorSetup{imap: imapSrv.Config(), imapPW: "pw", smtp: startSMTPWithAuth(t), endpoint: rcv.URL + "/hook"}
	if _, out, _ := runDoctorOn(t, s); len(got) != 0 || !strings.Contains(out, "no event sent") {
		t.Fatalf("an event was sent without --send-test:\n%s", out)
	}
	code, out, stderr := runDoctorOn(t, s, "--send-test")
	if code != 0 || len(got) != 1 || !strings.Contains(out, "test event delivered") {
		t.Fatalf("exit %d, %d events, stderr %s\n%s", code, len(got), stderr, out)
	}
	if <-got == "" {
		t.Fatal("the test event had no webhook-id")
	}
}

// The doctor names the process that holds the sender lease.
func TestDoctorNamesTheLeaseHolder(t *testing.T) {
	imapSrv, err := mailtest.StartIMAP("agent@example.com", "pw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { imapSrv.Close() })
	_, out, _ := runDoctorOn(t, doctorSetup{imap: imapSrv.Config(), imapPW: "pw", smtp: startSMTPWithAuth(t),
		leaseHolder: "smista serve (pid 1 on elsewhere)"})
	if !regexp.MustCompile(`ok +sender lease +held by smista serve \(pid 1 on elsewhere\) since `).MatchString(out) {
		t.Fatalf("no lease holder named:\n%s", out)
	}
}
