// Command smista is a terminal email-triage client: it syncs a mailbox,
// classifies each email, and tells the customer's ticket system about
// support requests with one signed webhook event, ticket.suggested.
//
// main only wires: flags, subcommands, configuration and the packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"smista/db"
)

// errUsage marks a command-line mistake: exit status 2, usage on stderr.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	app := &App{
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		Getenv:     os.Getenv,
		Now:        time.Now,
		IsTerminal: term.IsTerminal(int(os.Stdout.Fd())),
	}
	code := app.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// App carries what every command needs: standard streams, the environment,
// the clock and the global flags. Tests build one with buffers and temp
// paths and call Run.
type App struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Now            func() time.Time
	// IsTerminal is true when Stdout is a terminal (progress bars, colour).
	IsTerminal bool

	DBPath     string
	ConfigPath string
}

// command is one subcommand of the CLI.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, a *App, args []string) error
}

func commands() []command {
	return []command{
		{"tui", "the terminal UI (default command)", runTUI},
		{"demo", "embedded demo: local IMAP server, triage, local receiver", runDemo},
		{"import", "import .eml files, mbox files and Maildir folders", runImport},
		{"sync", "IMAP sync (IDLE with --watch)", runSync},
		{"triage", "classify and decide untriaged messages", runTriage},
		{"endpoints", "manage webhook endpoints: add, list, enable, disable, test, rotate, rm", runEndpoints},
		{"send", "run the outbox sender headless", runSend},
		{"log", "show deliveries (or attempts) from the delivery log", runLog},
		{"replay", "deliver a delivery's event again (same webhook-id)", runReplay},
		{"listen", "receive, verify and print webhook events locally", runListen},
	}
}

// Run executes the command line args (without the program name) and returns
// the exit status: 0 on success, 1 on error, 2 on a usage error.
func (a *App) Run(ctx context.Context, args []string) int {
	if a.Getenv == nil {
		a.Getenv = os.Getenv
	}
	if a.Now == nil {
		a.Now = time.Now
	}
	if a.Stdin == nil {
		a.Stdin = strings.NewReader("")
	}
	global := a.flagSet("smista", "[global flags] COMMAND [flags]")
	global.Usage = func() { a.usage(global) }
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	rest := global.Args()
	name := "tui"
	if len(rest) > 0 {
		name, rest = rest[0], rest[1:]
	}
	if name == "help" {
		a.usage(global)
		return 0
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.run(ctx, a, rest)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(a.Stderr, "smista %s: %v\n", name, err)
			return 2
		default:
			fmt.Fprintf(a.Stderr, "smista %s: %v\n", name, oneLine(err.Error()))
			return 1
		}
	}
	fmt.Fprintf(a.Stderr, "smista: unknown command %q (run 'smista help' for the list)\n", name)
	return 2
}

func (a *App) usage(fs *flag.FlagSet) {
	w := a.Stderr
	fmt.Fprintln(w, "smista — terminal email triage that tells your ticket system about support requests")
	fmt.Fprintln(w, "\nUsage: smista [--db PATH] [--config PATH] COMMAND [flags]")
	fmt.Fprintln(w, "\nCommands:")
	cs := commands()
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].name == "tui" && cs[j].name != "tui" })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nGlobal flags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintln(w, "\nRun 'smista COMMAND --help' for a command's flags.")
}

// flagSet returns a FlagSet for a subcommand that also accepts the global
// flags, so "smista log --db x" works as well as "smista --db x log".
func (a *App) flagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(a.Stderr)
	fs.StringVar(&a.DBPath, "db", a.DBPath, "SQLite database `path` (default $SMISTA_DB or $XDG_DATA_HOME/smista/smista.db)")
	fs.StringVar(&a.ConfigPath, "config", a.ConfigPath, "config file `path` (default $XDG_CONFIG_HOME/smista/config.toml)")
	fs.Usage = func() {
		fmt.Fprintf(a.Stderr, "Usage: smista %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args into fs, turning flag errors into errUsage (the
// flag package has already printed the message and usage).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

// Config loads the configuration: --config (must exist) or the default path
// (may be absent).
func (a *App) Config() (Config, error) {
	if a.ConfigPath != "" {
		return LoadConfig(a.ConfigPath, true)
	}
	return LoadConfig(DefaultConfigPath(a.Getenv), false)
}

// OpenDB opens the store at --db, $SMISTA_DB or the default path.
func (a *App) OpenDB(ctx context.Context) (*db.DB, error) {
	path := a.DBPath
	if path == "" {
		p, err := db.DefaultPath(a.Getenv)
		if err != nil {
			return nil, err
		}
		path = p
	}
	d, err := db.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	d.Now = a.Now
	return d, nil
}

// oneLine folds a multi-line error into the one line the CLI contract
// promises on stderr.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
