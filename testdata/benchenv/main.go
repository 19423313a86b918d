// Command benchenv prepares the real-mail environments of the scale
// benchmarks in docs/benchmarks.md: the SpamAssassin corpus (6,046
// messages) or a larger mailbox made by repeating it with rewritten
// Message-IDs, as a Maildir or served by a real Dovecot on 127.0.0.1.
//
//	go run ./testdata/benchenv maildir -n 100000 DIR
//	go run ./testdata/benchenv store -n 100000 [-triage] FILE
//	go run ./testdata/benchenv dovecot -n 6046 DIR   # serves until interrupted
//
// store writes a smista store of the messages, parsed as a sync parses
// them (and triaged by the offline classifier with -triage).
//
// The sender's benchmark has three more: one receiver every contender
// posts to, a store with an outbox to deliver, and the raw Go baseline:
//
//	go run ./testdata/benchenv receiver -addr 127.0.0.1:8788
//	go run ./testdata/benchenv outbox -events 2500 -endpoints 8 -url http://127.0.0.1:8788 FILE
//	go run ./testdata/benchenv loop -n 20000 -workers 8 http://127.0.0.1:8788/e1
//
// dovecot writes DIR/smista.toml (an account on the server) and
// DIR/mbsyncrc.in (mbsync's configuration with @MAILDIR@ for the target
// directory), then serves until SIGINT or SIGTERM. The corpus comes from
// $SMISTA_CORPUS (.ci/run fetches it).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"smista/app/apptest"
	"smista/mail/mailtest"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchenv:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: benchenv maildir|store|dovecot|outbox|receiver|loop [flags] [PATH|URL]")
	}
	switch args[0] {
	case "outbox":
		return outbox(args[1:])
	case "receiver":
		return receiver(args[1:])
	case "loop":
		return loop(args[1:])
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	n := fs.Int("n", 6046, "how many messages (the corpus repeated with rewritten Message-IDs)")
	corpus := fs.String("corpus", os.Getenv("SMISTA_CORPUS"), "the SpamAssassin corpus's data `directory`")
	triage := fs.Bool("triage", false, "store: triage the messages too")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("one directory expected")
	}
	dir, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		return err
	}
	c, err := mailtest.LoadCorpus(*corpus)
	if err != nil {
		return err
	}
	switch args[0] {
	case "maildir":
		return mailtest.WriteMaildir(dir, *n, c.Message)
	case "dovecot":
		return serve(dir, *n, c)
	case "store":
		return apptest.BuildStore(context.Background(), dir, c, *n, *triage)
	}
	return fmt.Errorf("unknown command %q", args[0])
}

func serve(dir string, n int, c *mailtest.Corpus) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dc, err := mailtest.StartDovecot(ctx, filepath.Join(dir, "dovecot"), "bench")
	if err != nil {
		return err
	}
	defer dc.Close()
	if err := dc.DeliverFunc("INBOX", n, c.Message); err != nil {
		return err
	}
	cfg := dc.Config()
	toml := fmt.Sprintf(`[[account]]
name = "bench"
mailboxes = ["INBOX"]
imap = { host = %q, port = %d, tls = "insecure", username = %q, password_env = "SMISTA_BENCH_PASSWORD" }
`, cfg.Host, cfg.Port, dc.Username)
	rc := fmt.Sprintf(`FSync no

IMAPAccount a
Host %s
Port %d
User %s
Pass %s
SSLType None
AuthMechs LOGIN PLAIN

IMAPStore remote
Account a

MaildirStore local
Path @MAILDIR@/
Inbox @MAILDIR@/INBOX

Channel c
Far :remote:
Near :local:
Patterns INBOX
Create Near
Sync Pull
SyncState *
`, cfg.Host, cfg.Port, dc.Username, mailtest.DovecotPassword)
	if err := os.WriteFile(filepath.Join(dir, "smista.toml"), []byte(toml), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "mbsyncrc.in"), []byte(rc), 0o600); err != nil {
		return err
	}
	fmt.Printf("dovecot on %s with %d messages; SMISTA_BENCH_PASSWORD=%s; %s/smista.toml, %s/mbsyncrc.in\n",
		dc.Addr, n, mailtest.DovecotPassword, dir, dir)
	<-ctx.Done()
	return nil
}
