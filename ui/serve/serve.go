// Package serve is smista's team server front end: the TUI served over
// SSH (charm.land/wish/v2 and its Bubble Tea middleware), one session per
// agent, all on one App — one store, one sender, one bus — so every
// session sees the others' actions live.
//
// It lives under ui because it is a front end that draws (each session
// runs the ui package's model); app must never draw, and main only wires.
// Nothing but the TUI is served: public-key auth of the configured agents
// only, no exec, no subsystems, no port or agent forwarding, no session
// without a terminal; failed logins are rate-limited per address and the
// sessions are capped.
package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/bubbletea"
	gossh "golang.org/x/crypto/ssh"

	"smista/app"
	"smista/ui"
)

// ErrNoAgents is returned by New without agents: nobody could log in.
var ErrNoAgents = errors.New("no [[serve.agent]] in the configuration: add each agent's name and public key (see README.md, For a team)")

// Options configures a Server. App, HostKey and Agents are required.
type Options struct {
	App *app.App
	// HostKey is the server's private key in PEM (LoadHostKey).
	HostKey []byte
	Agents  []Agent
	// MaxSessions caps the concurrent sessions (default 32).
	MaxSessions int
	// FailLimit failed logins from one address within FailWindow refuse
	// it until the window passes (defaults 10 and 1 minute).
	FailLimit  int
	FailWindow time.Duration
	// Logf receives the server's output: connections, refusals, never a
	// secret (nil: discarded).
	Logf func(format string, args ...any)
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Tick is the UI's refresh clock (0: its default).
	Tick time.Duration
}

// Server serves the TUI over SSH.
type Server struct {
	o     Options
	srv   *ssh.Server
	lim   *limiter
	count atomic.Int32 // sessions running
	seq   atomic.Int64 // session ids

	mu       sync.Mutex
	programs map[*tea.Program]struct{}
	closing  bool
}

// fps is the sessions' frame rate: Bubble Tea's most (its default is 60).
// A keypress waits for the next frame tick, so this halves the wait.
const fps = 120

type ctxKey string

// keyAgent holds, in a connection's context, the agent its key names.
const keyAgent ctxKey = "smista-agent"

// New returns a server for o. It fails with ErrNoAgents, or on a host key
// that does not parse.
func New(o Options) (*Server, error) {
	if len(o.Agents) == 0 {
		return nil, ErrNoAgents
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 32
	}
	if o.FailLimit <= 0 {
		o.FailLimit = 10
	}
	if o.FailWindow <= 0 {
		o.FailWindow = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	s := &Server{o: o, programs: map[*tea.Program]struct{}{},
		lim: &limiter{limit: o.FailLimit, window: o.FailWindow, now: o.Now, fails: map[string][]time.Time{}}}
	srv, err := wish.NewServer(
		wish.WithHostKeyPEM(o.HostKey),
		wish.WithPublicKeyAuth(s.auth),
		wish.WithMiddleware(s.tui, s.gate),
	)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	// No password or keyboard-interactive handler: those methods are not
	// offered. No forwarding callbacks, no subsystems: refused.
	srv.SessionRequestCallback = s.allowSession
	srv.ConnCallback = s.admit
	srv.HandshakeTimeout = 30 * time.Second
	srv.ChannelHandlers = map[string]ssh.ChannelHandler{"session": noAgentForwarding}
	srv.ConnectionFailedCallback = func(c net.Conn, err error) {
		o.Logf("serve: %s: connection failed: %v", hostOf(c.RemoteAddr()), err)
	}
	s.srv = srv
	return s, nil
}

// auth accepts the keys of the configured agents only; every refusal
// counts against the client's address.
func (s *Server) auth(ctx ssh.Context, key ssh.PublicKey) bool {
	name, ok := find(s.o.Agents, key)
	if !ok {
		s.lim.fail(ctx.RemoteAddr())
		s.o.Logf("serve: %s: unknown key %s refused", hostOf(ctx.RemoteAddr()), gossh.FingerprintSHA256(key))
		return false
	}
	ctx.SetValue(keyAgent, name)
	return true
}

// admit refuses, before the handshake, an address that failed too often.
func (s *Server) admit(ctx ssh.Context, c net.Conn) net.Conn {
	if s.lim.blocked(c.RemoteAddr()) {
		s.o.Logf("serve: %s: too many failed logins, refused for now", hostOf(c.RemoteAddr()))
		c.Close()
		return nil
	}
	return c
}

// allowSession takes a shell request with a terminal only: no exec (a
// command), no session without a PTY.
func (s *Server) allowSession(sess ssh.Session, requestType string) bool {
	_, _, pty := sess.Pty()
	if requestType != "shell" || !pty {
		s.o.Logf("serve: %s: %s request refused (only the TUI, on a terminal)", sess.User(), requestType)
		return false
	}
	return true
}

// gate is the outer middleware: the session cap, and the goodbye.
func (s *Server) gate(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		agent, _ := sess.Context().Value(keyAgent).(string)
		if n := s.count.Add(1); int(n) > s.o.MaxSessions {
			s.count.Add(-1)
			fmt.Fprintf(sess, "smista serve: %d sessions already, the most allowed; try again later\r\n", s.o.MaxSessions)
			_ = sess.Exit(1)
			s.o.Logf("serve: %s refused: %d sessions already", agent, s.o.MaxSessions)
			return
		}
		defer s.count.Add(-1)
		s.o.Logf("serve: %s connected from %s", agent, hostOf(sess.RemoteAddr()))
		next(sess)
		s.mu.Lock()
		closing := s.closing
		s.mu.Unlock()
		if closing {
			wish.Println(sess, "smista serve is shutting down; everything you did is saved. Bye.")
		}
		s.o.Logf("serve: %s disconnected", agent)
	}
}

// tui runs the session's TUI — its own model, size and colour profile,
// acting as its agent on the shared App — until the agent quits, the
// connection ends or the server shuts down. (wish's Bubble Tea middleware,
// written out so that the session's model and presence are released
// here, where they were made.)
func (s *Server) tui(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		agent, _ := sess.Context().Value(keyAgent).(string)
		_, winch, ok := sess.Pty()
		if agent == "" || !ok {
			return // allowSession let neither through
		}
		a := s.o.App
		id := fmt.Sprintf("%s#%d", agent, s.seq.Add(1))
		ctx, cancel := context.WithCancel(app.WithActor(sess.Context(), agent))
		defer cancel()
		m := ui.New(ui.Deps{
			Store: a.Store(), Actions: a, Events: ui.BusEvents(a.Bus()),
			User: agent, Session: id, Presence: a,
			// No external editor: it would run on the server, for the client.
			Editor: "", NoSecrets: true, Now: s.o.Now, Tick: s.o.Tick,
		}).WithContext(ctx)
		defer m.Close()
		defer a.SetViewing(id, agent, "")
		p := tea.NewProgram(m, append(bubbletea.MakeOptions(sess), tea.WithContext(ctx), tea.WithFPS(fps))...)
		if !s.track(p) {
			return
		}
		defer s.untrack(p)
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case w := <-winch:
					p.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
				}
			}
		}()
		if _, err := p.Run(); err != nil && ctx.Err() == nil {
			s.o.Logf("serve: %s: %v", id, err)
		}
		p.Kill()
		next(sess)
	}
}

// track registers a running program, unless the server is closing.
func (s *Server) track(p *tea.Program) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.programs[p] = struct{}{}
	return true
}

func (s *Server) untrack(p *tea.Program) {
	s.mu.Lock()
	delete(s.programs, p)
	s.mu.Unlock()
}

// Serve serves on ln until ctx ends, then tells every session, ends them
// and waits (up to 10 s) for their connections to close. It returns nil
// after a shutdown, or the listener's error.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.mu.Lock()
	s.closing = true
	ps := make([]*tea.Program, 0, len(s.programs))
	for p := range s.programs {
		ps = append(ps, p)
	}
	s.mu.Unlock()
	for _, p := range ps {
		p.Quit()
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		s.srv.Close()
	}
	<-errc
	return nil
}

// Sessions returns how many sessions run now.
func (s *Server) Sessions() int { return int(s.count.Load()) }
