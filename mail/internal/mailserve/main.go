// Command mailserve runs the test mail servers of package mailtest as one
// process, for end-to-end scripts (.ci/e2e-tui.sh drives "smista init"
// against it): an IMAP server on 127.0.0.1 holding three messages for
// agent@e2e.example with the password given by -password, an SMTP sink
// taking the same login, and a webhook receiver that answers 200. It prints IMAP=, SMTP= and
// HOOK= lines, then serves until interrupted or -for has passed.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"smista/mail/mailtest"
)

func main() {
	password := flag.String("password", "e2e-secret", "the IMAP user's password")
	lifetime := flag.Duration("for", 10*time.Minute, "stop after this long at the latest")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *lifetime)
	defer cancel()
	if err := run(ctx, *password); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, password string) error {
	imapSrv, err := mailtest.StartIMAP("agent@e2e.example", password)
	if err != nil {
		return err
	}
	defer imapSrv.Close()
	for i := range 3 {
		raw := fmt.Sprintf("From: customer%d@example.org\r\nSubject: cannot log in (%d)\r\nMessage-ID: <e2e%d@example.org>\r\n\r\nThe login page fails since this morning.\r\n", i, i, i)
		if err := imapSrv.Append("INBOX", []byte(raw)); err != nil {
			return err
		}
	}
	sink, err := mailtest.StartSMTP()
	if err != nil {
		return err
	}
	defer sink.Close()
	sink.RequireAuth("agent@e2e.example", password)
	var events atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(os.Stderr, "mailserve: event %d received (webhook-id %s)\n", events.Add(1), r.Header.Get("webhook-id"))
	}))
	defer hook.Close()
	fmt.Printf("IMAP=%s\nSMTP=%s\nHOOK=%s/hook\n", imapSrv.Addr, sink.Addr, hook.URL)
	<-ctx.Done()
	return nil
}
