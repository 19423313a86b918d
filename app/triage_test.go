package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
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

// TestTriageMemoryIsNotRetained: a triage run keeps nothing per message
// once the message is reported: the live heap after 2,000 messages of
// 8 KB each is what it was after 500 (retaining them would add over
// 20 MB, as a run that kept its outputs did).
func TestTriageMemoryIsNotRetained(t *testing.T) {
	const n, size = 2000, 8 << 10
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Options{Store: d, Classifier: &fixedClassifier{conf: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	body := strings.Repeat("My account page shows an error after the update, please help. ", size/64)
	for lo := 0; lo < n; lo += 500 {
		var msgs []*mail.Message
		for i := lo; i < lo+500; i++ {
			mid := fmt.Sprintf("<mem%d@x.example>", i)
			raw := "Message-ID: " + mid + "\r\nSubject: help " + strconv.Itoa(i) + "\r\n\r\n" + body
			m, err := mail.ParseHeader([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, m)
		}
		if _, err := d.SaveMessages(context.Background(), "test", msgs); err != nil {
			t.Fatal(err)
		}
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var at500, atEnd uint64
	seen := 0
	_, err = a.Triage(context.Background(), app.TriageRequest{Each: func(o app.TriageOutput) {
		if o.Err != nil {
			t.Error(o.Err)
		}
		switch seen++; seen {
		case 500:
			at500 = heap()
		case n - 10:
			atEnd = heap()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if seen != n {
		t.Fatalf("%d messages reported, want %d", seen, n)
	}
	grew := int64(atEnd) - int64(at500)
	t.Logf("live heap after 500 messages %.1f MB, after %d %.1f MB", float64(at500)/1e6, n-10, float64(atEnd)/1e6)
	if grew > 4<<20 {
		t.Errorf("the live heap grew %.1f MB over %d messages of %d KB: messages are retained", float64(grew)/1e6, n-510, size>>10)
	}
}

// TestRunKeepsSearchIndexed: a front end's background work indexes the
// stored messages for search at start, and new ones as they are stored.
func TestRunKeepsSearchIndexed(t *testing.T) {
	a, _ := pipelineApp(t, &fixedClassifier{conf: 0.5}, "a", "b", "c")
	d := a.Store()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Run(ctx, app.RunOptions{})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	waitBacklog := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			n, err := d.SearchBacklog(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d messages still not indexed for search %s", n, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitBacklog("at start")
	eml := filepath.Join(t.TempDir(), "new.eml")
	if err := os.WriteFile(eml, []byte("Message-ID: <new@x.example>\r\nSubject: fresh arrival\r\n\r\nhello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Import(context.Background(), []string{eml}, mail.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	waitBacklog("after an import")
	rows, err := d.Inbox(context.Background(), db.InboxFilter{Search: "arrival"}, db.Page{Limit: 5})
	if err != nil || len(rows) != 1 {
		t.Fatalf("search after indexing: %v %v", rows, err)
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
