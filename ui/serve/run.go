package serve

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"time"

	"smista/app"
	"smista/app/config"
	"smista/ui"
)

// Agents builds the configured agents. It fails on a key that does not
// parse ("config: serve.agent …") and with ErrNoAgents when none is
// configured.
func Agents(cs []config.AgentConfig) ([]Agent, error) {
	var agents []Agent
	for _, ac := range cs {
		ag, err := ParseAgent(ac.Name, ac.Keys, ac.AuthorizedKeys)
		if err != nil {
			return nil, fmt.Errorf("config: serve.%w", err)
		}
		agents = append(agents, ag)
	}
	if len(agents) == 0 {
		return nil, ErrNoAgents
	}
	return agents, nil
}

// RunOptions configures Run. App, Agents and both writers are required.
type RunOptions struct {
	App *app.App
	// Config is the [serve] section; Listen is where to listen.
	Config config.ServeConfig
	Agents []Agent
	// Stdout receives the team's activity (who did what), Stderr the
	// server's log and the App's notices.
	Stdout, Stderr io.Writer
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Run is the team server ("smista serve") on an open App: it loads the
// host key (made at first start, next to the store unless configured),
// listens, logs, and serves the TUI to the agents over SSH while the App
// syncs, triages and sends. When ctx ends the sessions are told and
// closed first, then the sender finishes its attempts in flight. It fails
// when the host key, the server or the listener cannot be set up, or
// with what stopped serving.
func Run(ctx context.Context, o RunOptions) error {
	a, sc := o.App, o.Config
	keyPath := sc.HostKey
	if keyPath == "" {
		keyPath = filepath.Join(filepath.Dir(a.Store().Path()), "ssh_host_ed25519_key")
	}
	hostKey, made, err := LoadHostKey(keyPath)
	if err != nil {
		return err
	}
	p := ui.StartPrinter(a.Bus(), o.Stdout, o.Stderr, ui.PrinterOptions{Cmd: "serve", Activity: true})
	defer p.Stop()
	logf := func(format string, args ...any) { fmt.Fprintf(o.Stderr, format+"\n", args...) }
	srv, err := New(Options{App: a, HostKey: hostKey, Agents: o.Agents, MaxSessions: sc.MaxSessions, Logf: logf, Now: o.Now})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", sc.Listen)
	if err != nil {
		return fmt.Errorf("serve: %w (set [serve] listen or --listen)", err)
	}
	if made {
		logf("serve: generated host key %s (mode 0600)", keyPath)
	}
	logf("serve: listening on %s for %d agent(s); host key %s", ln.Addr(), len(o.Agents), Fingerprint(hostKey))

	// The background work outlives the sessions: on SIGTERM the sessions
	// are told and closed first, then the sender finishes its attempts.
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { a.Run(bg, app.RunOptions{Send: true, Sync: true, Watch: true}) })
	err = srv.Serve(ctx, ln)
	logf("serve: sessions closed; finishing the attempts in flight")
	cancel()
	wg.Wait()
	return err
}
