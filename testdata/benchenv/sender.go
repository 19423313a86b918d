package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"smista/db"
	"smista/webhook"
)

// benchPayload is a ticket.suggested body of the usual size.
const benchPayload = `{"event":"ticket.suggested","email_id":"%016x","thread_id":"%016x","from":"cliente@azienda.example",` +
	`"subject":"Non funziona il login dal mattino","summary":"Problema di accesso segnalato dal cliente",` +
	`"priority":"high","confidence":0.88,"category":"support","raw_email_url":"mid:%016x@azienda.example"}`

// outbox writes a store at path holding endpoints endpoints (url/e1,
// url/e2, …, one receiver) and events ticket.suggested events, one
// delivery per endpoint each: what `smista send --once` then delivers.
func outbox(args []string) error {
	fs := flag.NewFlagSet("outbox", flag.ContinueOnError)
	events := fs.Int("events", 2500, "events to queue")
	endpoints := fs.Int("endpoints", 8, "endpoints (each event goes to all)")
	url := fs.String("url", "http://127.0.0.1:8788", "the receiver's base URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("outbox: one store path expected")
	}
	ctx := context.Background()
	d, err := db.Open(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	defer d.Close()
	for i := range *endpoints {
		secret, err := webhook.GenerateSecret()
		if err != nil {
			return err
		}
		if _, err := d.CreateEndpoint(ctx, fmt.Sprintf("%s/e%d", *url, i+1), secret); err != nil {
			return err
		}
	}
	for lo := 0; lo < *events; lo += 500 {
		var evs []db.NewEvent
		for i := lo; i < min(lo+500, *events); i++ {
			evs = append(evs, db.NewEvent{Type: "ticket.suggested", Payload: fmt.Appendf(nil, benchPayload, i, i, i)})
		}
		if _, err := d.EnqueueEvents(ctx, evs...); err != nil {
			return err
		}
	}
	return nil
}

// receiver answers every POST with 200 after reading its body, and says
// how many it answered when interrupted: the one receiver every contender
// (smista send, the Go loop, wrk) is measured against.
func receiver(args []string) error {
	fs := flag.NewFlagSet("receiver", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8788", "listen `address`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	var n atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n.Add(1)
		w.WriteHeader(http.StatusOK)
	})}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Printf("receiver on %s\n", ln.Addr())
	err = srv.Serve(ln)
	fmt.Printf("receiver answered %d requests\n", n.Load())
	if err == http.ErrServerClosed {
		return nil
	}
	return err
}

// loop POSTs one signed ticket.suggested body n times to url from workers
// goroutines over keep-alive connections (signed once): the raw HTTP
// baseline of the sender, in Go.
func loop(args []string) error {
	fs := flag.NewFlagSet("loop", flag.ContinueOnError)
	n := fs.Int("n", 20000, "requests")
	workers := fs.Int("workers", 8, "concurrent connections")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("loop: one URL expected")
	}
	url := fs.Arg(0)
	secret, err := webhook.GenerateSecret()
	if err != nil {
		return err
	}
	body := fmt.Appendf(nil, benchPayload, 1, 1, 1)
	hdr, err := webhook.SignedHeaders([]string{secret}, "msg_bench", time.Now(), body, "smista-bench")
	if err != nil {
		return err
	}
	hdr.Set("Content-Type", "application/json")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *workers, DisableCompression: true}}
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Int64
	start := time.Now()
	for range *workers {
		wg.Go(func() {
			for next.Add(1) <= int64(*n) {
				req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				if err != nil {
					failed.Add(1)
					continue
				}
				req.Header = hdr.Clone()
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	fmt.Printf("%d requests (%d failed) in %v: %.0f/s\n", *n, failed.Load(), el, float64(*n)/el.Seconds())
	return nil
}
