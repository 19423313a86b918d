package app_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"smista/app"
	"smista/db"
	"smista/db/dbtest"
	"smista/mail"
	"smista/triage"
	"smista/webhook"
)

// fixedClassifier answers support with a fixed confidence, or fails for
// one subject. When overlap is set, calls wait (5 s at most) until two are
// in flight together, so a pipeline that runs them concurrently shows it
// however the machine schedules its goroutines.
type fixedClassifier struct {
	conf           float64
	failOn         string
	flags          []triage.Flag
	inFlight, peak atomic.Int32
	overlap        chan struct{}
	overlapOnce    sync.Once
}

func (f *fixedClassifier) Classify(ctx context.Context, m *mail.Message, c triage.Context) (triage.Result, error) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			break
		}
	}
	if f.overlap != nil {
		if n >= 2 {
			f.overlapOnce.Do(func() { close(f.overlap) })
		}
		select {
		case <-f.overlap:
		case <-time.After(5 * time.Second): // never together: stop waiting
			f.overlapOnce.Do(func() { close(f.overlap) })
		}
	}
	if m.Subject == f.failOn {
		return triage.Result{}, errors.New("model unavailable")
	}
	return triage.Result{Intent: triage.IntentSupport, Confidence: f.conf, Priority: triage.PriorityNormal,
		Language: "en", Model: "fake/1", Summary: "s", Draft: "d", Flags: f.flags}, nil
}

// pipelineApp returns an App with classifier c (concurrency 3) on a store
// holding one message per subject and two endpoints, and the messages'
// email ids in queue order.
func pipelineApp(tb testing.TB, c triage.Classifier, subjects ...string) (*app.App, []string) {
	tb.Helper()
	d, err := db.Open(context.Background(), filepath.Join(tb.TempDir(), "s.db"))
	if err != nil {
		tb.Fatal(err)
	}
	a, err := app.New(app.Options{Store: d, Classifier: c, Concurrency: 3,
		Sender: webhook.Options{Guard: webhook.Guard{AllowPrivate: true}}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	var msgs []*mail.Message
	for i, s := range subjects {
		mid := "<p" + string(rune('a'+i)) + "@x.example>"
		msgs = append(msgs, &mail.Message{ID: mail.EmailID(mid), MessageID: mid, ThreadID: "t",
			From: mail.Address{Addr: "c@x.example"}, Subject: s, Text: "I can't log in.", Raw: []byte("x"),
			Date: time.Unix(int64(100+i), 0)})
	}
	ids, err := d.SaveMessages(context.Background(), "test", msgs)
	if err != nil {
		tb.Fatal(err)
	}
	for _, u := range []string{"http://127.0.0.1:9/a", "http://127.0.0.1:9/b"} {
		if _, err := a.AddEndpoint(context.Background(), u, ""); err != nil {
			tb.Fatal(err)
		}
	}
	return a, ids
}

func counts(tb testing.TB, a *app.App) db.Counts {
	tb.Helper()
	c, err := a.Store().Counts(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestTriagePipeline(t *testing.T) {
	subjects := []string{"a", "b", "fail", "c", "Refund please", "e", "f", "g"}
	fc := &fixedClassifier{conf: 0.95, failOn: "fail", overlap: make(chan struct{})}
	a, ids := pipelineApp(t, fc, subjects...)
	var outs []app.TriageOutput
	sub := a.Bus().Subscribe()
	defer sub.Close()
	sum, err := a.Triage(context.Background(), app.TriageRequest{Each: func(o app.TriageOutput) { outs = append(outs, o) }})
	if err == nil {
		t.Fatal("a failed classification was not reported")
	}
	if len(outs) != len(subjects) || sum.Total != len(subjects) || sum.Failed != 1 {
		t.Fatalf("outputs %d, summary %+v", len(outs), sum)
	}
	if p := fc.peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak concurrency %d, want 2..3", p)
	}
	tickets := 0
	for i, o := range outs {
		if o.Message.ID != ids[i] {
			t.Errorf("output %d is %s, want %s (queue order)", i, o.Message.ID, ids[i])
		}
		switch o.Message.Subject {
		case "fail":
			if o.Err == nil {
				t.Error("fail: no error")
			}
		case "Refund please": // the deterministic flag is added to the model's verdict
			if o.Decision.Action != triage.ActionDraft || len(o.Result.Flags) != 1 || o.Result.Flags[0] != triage.FlagPayments {
				t.Errorf("refund: %+v %+v", o.Result.Flags, o.Decision)
			}
		default:
			if o.Decision.Action != triage.ActionTicket || !o.Queued {
				t.Errorf("%s: %+v queued %v", o.Message.Subject, o.Decision, o.Queued)
			}
			tickets++
		}
	}
	if sum.Ticket != tickets || tickets != 6 {
		t.Errorf("summary says %d tickets, outputs %d", sum.Ticket, tickets)
	}
	if c := counts(t, a); c.Tickets != 6 || c.Deliveries != 12 {
		t.Errorf("events %d deliveries %d, want 6 and 12", c.Tickets, c.Deliveries)
	}
	// The run told the bus: progress up to the total, then a change.
	var last app.TriageProgress
	var changed app.Topic
	timeout := time.After(5 * time.Second)
	for changed&app.TopicTriage == 0 {
		select {
		case e := <-sub.C():
			switch v := e.(type) {
			case app.TriageProgress:
				last = v
			case app.Changed:
				changed |= v.Topics
			}
		case <-timeout:
			t.Fatalf("no Changed(triage) on the bus; last progress %+v", last)
		}
	}
	if last.Working || last.Done != len(subjects) || last.Total != len(subjects) {
		t.Errorf("last progress %+v, want done %d of %d", last, len(subjects), len(subjects))
	}

	// the failed one is still untriaged; --all re-triages without new events
	fc.failOn = ""
	outs = nil
	sum, err = a.Triage(context.Background(), app.TriageRequest{Each: func(o app.TriageOutput) { outs = append(outs, o) }})
	if err != nil || len(outs) != 1 || !outs[0].Queued {
		t.Fatalf("retry: %v %d", err, len(outs))
	}
	sum, err = a.Triage(context.Background(), app.TriageRequest{All: true})
	if err != nil || sum.Total != len(subjects) {
		t.Fatalf("re-triage: %v %+v", err, sum)
	}
	if c := counts(t, a); c.Tickets != 7 {
		t.Errorf("events after re-triage: %d, want 7", c.Tickets)
	}
}

func TestTriageCanceled(t *testing.T) {
	a, _ := pipelineApp(t, &fixedClassifier{conf: 0.9}, "a", "b", "c")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Triage(ctx, app.TriageRequest{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
}

func TestTriageIDs(t *testing.T) {
	off, err := triage.NewOffline()
	if err != nil {
		t.Fatal(err)
	}
	a, ids := pipelineApp(t, off, "a", "b", "c")
	var outs []app.TriageOutput
	_, err = a.Triage(context.Background(), app.TriageRequest{IDs: ids[1:2], Each: func(o app.TriageOutput) { outs = append(outs, o) }})
	if err != nil || len(outs) != 1 || outs[0].Message.ID != ids[1] || outs[0].Result.Model != triage.OfflineModel {
		t.Fatalf("%v %+v", err, outs)
	}
}

// "Not a ticket" on a ticket whose event already went out says so once,
// without stacked prefixes.
func TestNotTicketAfterDeliveryMessage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	a := newApp(t)
	ctx := context.Background()
	if _, err := a.AddEndpoint(ctx, srv.URL+"/hook", ""); err != nil {
		t.Fatal(err)
	}
	email := dbtest.SeedTicket(t, a.Store(), "Cannot log in")
	if err := a.RunSender(ctx, true); err != nil {
		t.Fatal(err)
	}
	_, err := a.NotTicket(ctx, email, "giulia")
	want := "not a ticket: the ticket.suggested event was already sent to the receiver: delivery already started"
	if !errors.Is(err, db.ErrDeliveryStarted) || err.Error() != want {
		t.Fatalf("NotTicket = %v, want %q", err, want)
	}
}
