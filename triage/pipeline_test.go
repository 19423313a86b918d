package triage_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/mail"
	"smista/triage"
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

func pipelineDB(tb testing.TB, subjects ...string) (*db.DB, []string) {
	tb.Helper()
	d := dbtest.MustOpen(tb)
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
	for range 2 {
		dbtest.SeedEndpoint(tb, d, "http://127.0.0.1:9/")
	}
	return d, ids
}

func TestRunPipeline(t *testing.T) {
	subjects := []string{"a", "b", "fail", "c", "Refund please", "e", "f", "g"}
	d, ids := pipelineDB(t, subjects...)
	fc := &fixedClassifier{conf: 0.95, failOn: "fail", overlap: make(chan struct{})}
	var queued atomic.Int32
	var progress []int
	o := triage.Options{Policy: triage.DefaultPolicy(), Concurrency: 3,
		OnQueued: func() { queued.Add(1) },
		Progress: func(done, total int) {
			if total != len(subjects) {
				t.Errorf("total %d", total)
			}
			progress = append(progress, done)
		}}
	outs, err := triage.Run(context.Background(), d, fc, o)
	if err == nil {
		t.Fatal("a failed classification was not reported")
	}
	if len(outs) != len(subjects) || len(progress) != len(subjects) || progress[len(progress)-1] != len(subjects) {
		t.Fatalf("outputs %d progress %v", len(outs), progress)
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
	if int(queued.Load()) != tickets || tickets != 6 {
		t.Errorf("OnQueued called %d times for %d tickets", queued.Load(), tickets)
	}
	events, deliveries := dbtest.Count(t, d, "tickets"), dbtest.Count(t, d, "deliveries")
	if events != 6 || deliveries != 12 {
		t.Errorf("events %d deliveries %d, want 6 and 12", events, deliveries)
	}

	// the failed one is still untriaged; --all re-triages without new events
	fc.failOn = ""
	o.Progress = nil
	outs, err = triage.Run(context.Background(), d, fc, o)
	if err != nil || len(outs) != 1 || !outs[0].Queued {
		t.Fatalf("retry: %v %d", err, len(outs))
	}
	queued.Store(0)
	o.All = true
	outs, err = triage.Run(context.Background(), d, fc, o)
	if err != nil || len(outs) != len(subjects) || queued.Load() != 0 {
		t.Fatalf("re-triage: %v %d queued %d", err, len(outs), queued.Load())
	}
	if events := dbtest.Count(t, d, "tickets"); events != 7 {
		t.Errorf("events after re-triage: %d, want 7", events)
	}
}

func TestRunCanceled(t *testing.T) {
	d, _ := pipelineDB(t, "a", "b", "c")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := triage.Run(ctx, d, &fixedClassifier{conf: 0.9}, triage.Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
}

func TestRunIDs(t *testing.T) {
	d, ids := pipelineDB(t, "a", "b", "c")
	outs, err := triage.Run(context.Background(), d, mustOffline(t), triage.Options{Policy: triage.DefaultPolicy(), IDs: ids[1:2]})
	if err != nil || len(outs) != 1 || outs[0].Message.ID != ids[1] || outs[0].Result.Model != triage.OfflineModel {
		t.Fatalf("%v %+v", err, outs)
	}
}
