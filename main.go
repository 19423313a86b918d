// Command smista is a terminal email-triage client: it syncs a mailbox,
// classifies each email, and tells the customer's ticket system about
// support requests with one signed webhook event, ticket.suggested.
//
// Package main is the command line: flags, subcommands, configuration,
// printing and exit codes. Every operation lives in package app.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"smista/app"
	"smista/app/config"
	"smista/db"
	"smista/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := &Main{
		Stdin:          os.Stdin,
		Stdout:         os.Stdout,
		Stderr:         os.Stderr,
		Getenv:         os.Getenv,
		Now:            time.Now,
		IsTerminal:     term.IsTerminal(int(os.Stdout.Fd())),
		SetMemoryLimit: debug.SetMemoryLimit,
		SetGCPercent:   debug.SetGCPercent,

		StdinIsTerminal: term.IsTerminal(int(os.Stdin.Fd())),
	}
	code := m.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// Main carries what every command needs: standard streams, the
// environment, the clock and the global flags. Tests build one with
// buffers and temp paths and call Run.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Now            func() time.Time
	// IsTerminal is true when Stdout is a terminal (progress bars, colour).
	IsTerminal bool
	// SetMemoryLimit is debug.SetMemoryLimit in the program (nil in
	// tests: the limit is the process's).
	SetMemoryLimit func(limit int64) int64
	// SetGCPercent is debug.SetGCPercent in the program (nil in tests:
	// the collector keeps the process's setting).
	SetGCPercent func(percent int) int
	// StdinIsTerminal is true when Stdin is a terminal: "smista init"
	// shows its form only then, and asks plain questions otherwise.
	StdinIsTerminal bool
	// Resolver looks up MX records for "smista init" (nil: the system's).
	Resolver config.MXResolver
	// OpenURL shows an OAuth2 authorization URL to the user (nil: print
	// it and start a browser where one runs).
	OpenURL func(url string) error

	DBPath     string
	ConfigPath string

	// threshold is the configured decision threshold, for the TUI's
	// review queue.
	threshold float64
	// notify is the configured notice of new work (ui.notify).
	notify string
}

// batchMemory is the Go memory import and sync ask the garbage collector
// to stay under: their pipelines (and a sync's triage behind them) hold a
// bounded working set of about 35 MB, which the collector would otherwise
// let the heap grow to twice; the limit keeps a 100,000-message sync with
// triage under 100 MB of resident memory for about 5 % more CPU (triage
// alone stays under it without). GOMEMLIMIT, when set, wins.
const batchMemory = 48 << 20

// limitMemory applies batchMemory for a batch command.
func (m *Main) limitMemory() {
	if m.SetMemoryLimit != nil && m.Getenv("GOMEMLIMIT") == "" {
		m.SetMemoryLimit(batchMemory)
	}
}

// senderGCPercent is the collector's target for a sender run: the sender
// allocates about 8 KB per delivery (requests, headers, attempt rows),
// all of it garbage within the group commit, over a live heap of a few
// MB, so at the default 100 % the collector runs every few hundred
// deliveries and costs about a sixth of the process's CPU. Four times the
// live heap between collections costs about 20 MB more resident memory;
// batchMemory bounds the heap all the same. GOGC or GOMEMLIMIT, when
// set, win.
const senderGCPercent = 400

// tuneSenderGC applies senderGCPercent (and batchMemory) for a sender run.
func (m *Main) tuneSenderGC() {
	if m.SetGCPercent != nil && m.Getenv("GOGC") == "" && m.Getenv("GOMEMLIMIT") == "" {
		m.SetGCPercent(senderGCPercent)
		m.limitMemory()
	}
}

// triageGCPercent is the collector's target for a triage run: a run
// allocates about 50 KB per message over a live heap of 5–14 MB, so at
// the default 100 % the collector ran some 45 times in a 6,046-message
// run; at 150 % it runs a third less often, for about 4 % less CPU, and
// the resident set of a 100,000-message run grows from 82 to 86 MB (200 %
// reached 97 MB, too close to the 100 MB bound). GOGC, when set, wins.
const triageGCPercent = 150

// tuneTriageGC applies triageGCPercent for a triage run.
func (m *Main) tuneTriageGC() {
	if m.SetGCPercent != nil && m.Getenv("GOGC") == "" {
		m.SetGCPercent(triageGCPercent)
	}
}

// command is one subcommand of the CLI.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, m *Main, args []string) error
}

func commands() []command {
	return []command{
		{"tui", "the terminal UI (default command)", runTUI},
		{"demo", "embedded demo: local IMAP server, triage, local receiver", runDemo},
		{"init", "set up your own mailbox: provider, sign-in, triage, endpoint", runInit},
		{"doctor", "check the config, the store, each server, the LLM and the endpoints", runDoctor},
		{"import", "import .eml files, mbox files and Maildir folders", runImport},
		{"sync", "IMAP sync (IDLE with --watch)", runSync},
		{"triage", "classify and decide untriaged messages", runTriage},
		{"endpoints", "manage webhook endpoints: add, list, enable, disable, test, rotate, rm", runEndpoints},
		{"send", "run the outbox sender headless", runSend},
		{"log", "show deliveries (or attempts) from the delivery log", runLog},
		{"mark", "mark emails read, unread, starred or done, here and on the server", runMark},
		{"replay", "deliver a delivery's event again (same webhook-id), in bulk, or once to another URL", runReplay},
		{"listen", "receive, verify, print and forward webhook events locally", runListen},
		{"verify", "the signature doctor: why a captured request does or does not verify", runVerify},
		{"eval", "score the classifier on a folder of labelled emails", runEval},
		{"learning", "show, export or reset what triage learned from corrections", runLearning},
		{"serve", "the team server: sync, triage, send, and the TUI over SSH", runServe},
	}
}

// Run executes the command line args (without the program name) and returns
// the exit status: 0 on success, 1 on error, 2 on a usage error.
func (m *Main) Run(ctx context.Context, args []string) int {
	if m.Getenv == nil {
		m.Getenv = os.Getenv
	}
	if m.Now == nil {
		m.Now = time.Now
	}
	if m.Stdin == nil {
		m.Stdin = strings.NewReader("")
	}
	if user := m.Getenv("USER"); user != "" {
		// Every action of this command is recorded as human:$USER.
		ctx = app.WithActor(ctx, user)
	}
	name, pre, rest := cli.Split(args, "tui", "db", "config")
	switch name {
	case "help":
		m.usage()
		return 0
	case "tui":
		rest = append(append([]string{}, pre...), rest...)
	default:
		// What precedes the command are global flags.
		fs := m.flagSet("smista", "[--db PATH] [--config PATH] COMMAND [flags]")
		if err := fs.Parse(pre); err != nil {
			return 2
		}
	}
	for _, c := range commands() {
		if c.name == name {
			return cli.Exit(m.Stderr, name, c.run(ctx, m, rest))
		}
	}
	fmt.Fprintf(m.Stderr, "smista: unknown command %q (run 'smista help' for the list)\n", name)
	return 2
}

func (m *Main) usage() {
	w := m.Stderr
	fmt.Fprintln(w, "smista — terminal email triage that tells your ticket system about support requests")
	fmt.Fprintln(w, "\nUsage: smista [--db PATH] [--config PATH] [COMMAND] [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nGlobal flags:")
	fs := m.flagSet("", "")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintln(w, "\nWithout a command smista opens the TUI; its flags (--no-send, --no-sync) work there too.")
	fmt.Fprintln(w, "Run 'smista COMMAND --help' for a command's flags.")
}

// flagSet returns a FlagSet for a subcommand that also accepts the global
// flags, so "smista log --db x" works as well as "smista --db x log".
func (m *Main) flagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&m.DBPath, "db", m.DBPath, "SQLite database `path` (default $SMISTA_DB or $XDG_DATA_HOME/smista/smista.db)")
	fs.StringVar(&m.ConfigPath, "config", m.ConfigPath, "config file `path` (default $XDG_CONFIG_HOME/smista/config.toml)")
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "Usage: smista %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// OpenDB opens the store at --db, $SMISTA_DB or the default path.
func (m *Main) OpenDB(ctx context.Context) (*db.DB, error) {
	path := m.DBPath
	if path == "" {
		p, err := db.DefaultPath(m.Getenv)
		if err != nil {
			return nil, err
		}
		path = p
	}
	d, err := db.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	d.Now = m.Now
	return d, nil
}
