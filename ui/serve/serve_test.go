package serve_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"smista/app"
	"smista/db"
	"smista/db/dbtest"
	"smista/ui/internal/fixture"
	"smista/ui/serve"
	"smista/webhook"
)

// env is a running team server on the UI fixture's store.
type env struct {
	addr    string
	hostKey gossh.PublicKey
	keyPEM  []byte
	keys    map[string]gossh.Signer // agent → key
	d       *db.DB
	a       *app.App
	srv     *serve.Server
	logMu   sync.Mutex
	log     strings.Builder
	stop    context.CancelFunc
	done    chan error
}

func newSigner(t *testing.T) (gossh.Signer, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return s, string(gossh.MarshalAuthorizedKey(sp))
}

func startServer(t *testing.T, max int) *env {
	t.Helper()
	d := dbtest.MustOpen(t)
	d.Now = fixture.Now
	if err := fixture.Seed(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Options{Store: d, Sender: webhook.Options{Guard: webhook.Guard{AllowPrivate: true}}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{d: d, a: a, keys: map[string]gossh.Signer{}, done: make(chan error, 1)}
	var agents []serve.Agent
	for _, name := range []string{"giulia", "marco"} {
		s, line := newSigner(t)
		e.keys[name] = s
		ag, err := serve.ParseAgent(name, []string{line}, "")
		if err != nil {
			t.Fatal(err)
		}
		agents = append(agents, ag)
	}
	keyPath := filepath.Join(t.TempDir(), "keys", "host_ed25519")
	pemKey, made, err := serve.LoadHostKey(keyPath)
	if err != nil || !made {
		t.Fatalf("LoadHostKey: made=%v err=%v", made, err)
	}
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("host key file mode %v (err %v), want 0600", fi.Mode().Perm(), err)
	}
	e.keyPEM = pemKey
	hk, err := gossh.ParsePrivateKey(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	e.hostKey = hk.PublicKey()
	e.srv, err = serve.New(serve.Options{App: a, HostKey: pemKey, Agents: agents, MaxSessions: max, FailLimit: 3,
		Logf: func(f string, args ...any) {
			e.logMu.Lock()
			defer e.logMu.Unlock()
			fmt.Fprintf(&e.log, f+"\n", args...)
		}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	e.stop = cancel
	go func() { e.done <- e.srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-e.done
		a.Close()
	})
	return e
}

// dial connects with auth, trusting only the server's host key.
func (e *env) dial(auth ...gossh.AuthMethod) (*gossh.Client, error) {
	return gossh.Dial("tcp", e.addr, &gossh.ClientConfig{User: "x", Auth: auth,
		HostKeyCallback: gossh.FixedHostKey(e.hostKey), Timeout: 10 * time.Second})
}

// term is one SSH session with a terminal, and everything it printed.
type term struct {
	c     *gossh.Client
	s     *gossh.Session
	in    io.Writer
	mu    sync.Mutex
	out   bytes.Buffer
	ended chan struct{}
}

func (e *env) open(t *testing.T, agent string) *term {
	t.Helper()
	c, err := e.dial(gossh.PublicKeys(e.keys[agent]))
	if err != nil {
		t.Fatalf("%s: dial: %v", agent, err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RequestPty("xterm-256color", 30, 110, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	tm := &term{c: c, s: s, ended: make(chan struct{})}
	if tm.in, err = s.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := s.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(tm.ended)
		buf := make([]byte, 32<<10)
		for {
			n, err := out.Read(buf)
			tm.mu.Lock()
			tm.out.Write(buf[:n])
			tm.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	if err := s.Shell(); err != nil {
		t.Fatalf("%s: shell: %v", agent, err)
	}
	return tm
}

// text is what the session printed, ANSI stripped and every space
// removed: the renderer moves the cursor over unchanged cells, so words
// drawn on a screen are not always separated by spaces in the stream.
func (tm *term) text() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return squeeze(ansi.Strip(tm.out.String()))
}

func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// waitFor waits (10 s at most) until the session has printed want.
func (tm *term) waitFor(t *testing.T, want string) {
	t.Helper()
	w := squeeze(want)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(tm.text(), w); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %q; the session printed:\n%s", want, tm.text())
		}
	}
}

func (tm *term) keys(t *testing.T, ks ...string) {
	t.Helper()
	for _, k := range ks {
		if _, err := io.WriteString(tm.in, k); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond) // one key, one message: as typed
	}
}

// TestServeTwoSessions: two agents' sessions on one server; an override
// in one shows in the other within the bus's delay, attributed; an email
// open in one shows "giulia is on it" in the other; no secret reaches a
// screen or the server's output; a SIGTERM-like stop tells the sessions.
func TestServeTwoSessions(t *testing.T) {
	e := startServer(t, 8)
	g := e.open(t, "giulia")
	m := e.open(t, "marco")
	g.waitFor(t, "Order #5531")
	m.waitFor(t, "Order #5531")

	// giulia: the intern's email (second to last by date) is a ticket.
	g.keys(t, "G", "k", "T")
	g.waitFor(t, "[y/n]")
	g.keys(t, "y")
	m.waitFor(t, "giulia: suggested a ticket")
	md, err := e.d.MessageDetail(context.Background(), fixture.InternID)
	if err != nil {
		t.Fatal(err)
	}
	if md.Triage == nil || md.Triage.DecidedBy != "human:giulia" {
		t.Errorf("decision %+v, want by human:giulia", md.Triage)
	}
	acts, err := e.d.Actions(context.Background(), fixture.InternID, 10)
	if err != nil || len(acts) == 0 || acts[0].Actor != "human:giulia" {
		t.Errorf("audit of the intern's email: %+v (err %v), want giulia's action", acts, err)
	}

	// Presence: giulia opens it, then marco does.
	g.keys(t, "\r")
	g.waitFor(t, "Msg-ID:")
	m.keys(t, "G", "k", "\r")
	m.waitFor(t, "giulia is on it")

	// Endpoints: listed, but adding one (a new secret) is refused here.
	m.keys(t, "h", "5", "a")
	m.waitFor(t, "add endpoint: run 'smista endpoints' on the server")

	for name, tm := range map[string]*term{"giulia": g, "marco": m} {
		for _, secret := range []string{"whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "OPENSSHPRIVATEKEY"} {
			if strings.Contains(tm.text(), secret) {
				t.Errorf("%s's session shows %q", name, secret)
			}
		}
	}
	e.stop()
	g.waitFor(t, "shutting down")
	select {
	case <-g.ended:
	case <-time.After(10 * time.Second):
		t.Error("giulia's session did not end after the shutdown")
	}
	e.logMu.Lock()
	log := e.log.String()
	e.logMu.Unlock()
	if !strings.Contains(log, "giulia connected") {
		t.Errorf("server output does not log the connection:\n%s", log)
	}
	for _, secret := range []string{"whsec_", string(e.keyPEM[40:80])} {
		if strings.Contains(log, secret) {
			t.Errorf("server output shows a secret (%q):\n%s", secret, log)
		}
	}
}

// TestServeRefuses: an unknown key, a password, keyboard-interactive, an
// exec request, a session without a terminal, agent and port forwarding
// are refused; repeated failures refuse the address; the session cap
// holds.
func TestServeRefuses(t *testing.T) {
	e := startServer(t, 1)
	stranger, _ := newSigner(t)
	refused := map[string][]gossh.AuthMethod{
		"unknown key": {gossh.PublicKeys(stranger)},
		"password":    {gossh.Password("secret")},
		"keyboard-interactive": {gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
			return []string{"secret"}, nil
		})},
	}
	for name, auth := range refused {
		t.Run(name, func(t *testing.T) {
			if c, err := e.dial(auth...); err == nil {
				c.Close()
				t.Fatal("login accepted")
			}
		})
	}

	c, err := e.dial(gossh.PublicKeys(e.keys["giulia"]))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	// The request itself is refused (not run and failed).
	if ok, err := s.SendRequest("exec", true, gossh.Marshal(struct{ Command string }{"cat /etc/passwd"})); ok || err != nil {
		t.Errorf("exec request: accepted=%v err=%v, want refused", ok, err)
	}
	s.Close()
	s, err = c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.SendRequest("auth-agent-req@openssh.com", true, nil); ok {
		t.Error("agent forwarding accepted")
	}
	if err := s.Shell(); err == nil {
		t.Error("a shell without a terminal accepted")
	}
	s.Close()
	if conn, err := c.Dial("tcp", e.addr); err == nil {
		conn.Close()
		t.Error("port forwarding accepted")
	}

	// The cap: one session runs, a second is told to come back later.
	first := e.open(t, "giulia")
	first.waitFor(t, "Inbox")
	second := e.open(t, "marco")
	second.waitFor(t, "try again later")

	// The unknown key failed once and the two other methods never reached
	// the key check; two more failures block the address.
	for range 2 {
		if c, err := e.dial(gossh.PublicKeys(stranger)); err == nil {
			c.Close()
		}
	}
	if c, err := e.dial(gossh.PublicKeys(e.keys["marco"])); err == nil {
		c.Close()
		t.Error("a known key got in from an address blocked for failed logins")
	}
}
