package app_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"smista/app"
	"smista/db"
	"smista/webhook"
)

// newApp returns an App on a fresh store that may deliver to 127.0.0.1.
func newApp(t *testing.T) *app.App {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Options{Store: d, Sender: webhook.Options{Guard: webhook.Guard{AllowPrivate: true},
		Retries: []time.Duration{10 * time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// The running sender's notices reach the bus with its own counters and a
// change of the delivery log: what keeps every screen live.
func TestSenderReportsOnTheBus(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	a := newApp(t)
	ctx := context.Background()
	ep, err := a.AddEndpoint(ctx, srv.URL+"/hook", "")
	if err != nil {
		t.Fatal(err)
	}
	sub := a.Bus().Subscribe()
	defer sub.Close()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.RunSender(runCtx, false) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	var running bool
	deadline := time.After(10 * time.Second)
	for !running {
		select {
		case e := <-sub.C():
			if st, ok := e.(app.SenderStats); ok && st.Running {
				running = true
			}
		case <-deadline:
			t.Fatal("no SenderStats{Running} on the bus")
		}
	}
	dlv, err := a.TestEndpoint(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	var delivered bool
	var changed app.Topic
	for !delivered || changed&app.TopicDeliveries == 0 {
		select {
		case e := <-sub.C():
			switch v := e.(type) {
			case app.DeliveryNotice:
				if v.Kind == webhook.NoticeDelivered && v.DeliveryID == dlv {
					delivered = true
				}
			case app.Changed:
				if delivered {
					changed |= v.Topics
				}
			}
		case <-deadline:
			t.Fatalf("no delivered notice and change for %s (receiver hits %d)", dlv, hits.Load())
		}
	}
	if !a.Sending() {
		t.Error("Sending() is false while the sender runs")
	}
	if err := a.RunSender(ctx, true); !errors.Is(err, webhook.ErrRunning) {
		t.Errorf("a second sender in one App: %v, want ErrRunning", err)
	}
}
