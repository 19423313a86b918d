package webhook_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

// fakeTransport fails every attempt the way a transport reports it,
// permanent or not, and counts the attempts.
type fakeTransport struct {
	now       func() time.Time
	permanent bool
	calls     atomic.Int64
}

func (f *fakeTransport) Deliver(_ context.Context, _ webhook.Delivery) webhook.Result {
	f.calls.Add(1)
	return webhook.Result{Started: f.now(), Duration: time.Millisecond, StatusCode: 550,
		Class: webhook.ClassHTTPStatus, Err: "550 mailbox unavailable", Permanent: f.permanent}
}

func TestPermanentFailureIsDeadAtOnce(t *testing.T) {
	tests := map[string]struct {
		permanent  bool
		wantNotice webhook.NoticeKind
		wantStatus string
	}{
		"permanent: dead, no retry": {permanent: true, wantNotice: webhook.NoticeDead, wantStatus: webhook.StatusDead},
		"transient: retried":        {permanent: false, wantNotice: webhook.NoticeFailed, wantStatus: webhook.StatusRetrying},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			clk := newClock()
			d := mustOpenDB(t, clk.Now)
			dbtest.SeedEndpoint(t, d, "http://127.0.0.1:1/unused")
			dbtest.SeedEvents(t, d, `{"email_id":"e1"}`)
			tr := &fakeTransport{now: clk.Now, permanent: tc.permanent}
			opts := fastOptions(clk)
			opts.Transports = map[string]webhook.Transport{webhook.KindWebhook: tr}
			r := startSender(t, d, opts)
			n := r.next(t, webhook.NoticeDead, webhook.NoticeFailed, webhook.NoticeDelivered)
			if n.Kind != tc.wantNotice || n.Attempt != 1 || n.StatusCode != 550 {
				t.Fatalf("notice %+v, want %s after attempt 1 with 550", n, tc.wantNotice)
			}
			// Past the first retry (due 30s after the attempt ended): a
			// dead delivery is never tried again, a retrying one is.
			clk.Advance(31 * time.Second)
			r.s.Notify()
			if !tc.permanent {
				r.next(t, webhook.NoticeFailed)
			}
			r.stop()
			logs := must(d.Deliveries(context.Background(), db.DeliveryFilter{Kind: "webhook"}))
			wantCalls := int64(1)
			if !tc.permanent {
				wantCalls = 2
			}
			if tr.calls.Load() != wantCalls {
				t.Errorf("%d attempts made, want %d", tr.calls.Load(), wantCalls)
			}
			if len(logs) != 1 || logs[0].Status != tc.wantStatus || logs[0].LastStatusCode != 550 {
				t.Fatalf("delivery %+v, want %s with last status 550", logs, tc.wantStatus)
			}
			if tc.permanent && !logs[0].NextAttemptAt.IsZero() {
				t.Errorf("dead delivery still scheduled at %s", logs[0].NextAttemptAt)
			}
			attempts := must(d.Attempts(context.Background(), db.AttemptFilter{Kind: "webhook"}))
			if int64(len(attempts)) != wantCalls || attempts[0].Error != "550 mailbox unavailable" {
				t.Errorf("attempt log %+v, want %d attempts with the 550 text", attempts, wantCalls)
			}
		})
	}
}

// waitStats polls Stats until it reports want, failing after a generous
// bound; the counters settle as soon as the workers reach their state.
func waitStats(tb testing.TB, s *webhook.Sender, wantQueued, wantInFlight int) {
	tb.Helper()
	var q, f int
	for range 2000 {
		if q, f = s.Stats(); q == wantQueued && f == wantInFlight {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	tb.Fatalf("Stats() = %d queued, %d in flight; want %d, %d", q, f, wantQueued, wantInFlight)
}

func TestStatsQueuedAndInFlight(t *testing.T) {
	clk := newClock()
	d := mustOpenDB(t, clk.Now)
	entered := make(chan struct{})
	release := make(chan struct{})
	rv := newReceiver(t, clk.Now)
	rv.respond = func(n int, _ http.ResponseWriter, _ *http.Request) int {
		if n == 0 {
			close(entered)
			<-release
		}
		return http.StatusOK
	}
	_, secret := dbtest.SeedEndpoint(t, d, rv.srv.URL)
	rv.setSecrets(secret)
	for range 5 {
		dbtest.SeedEvents(t, d, `{"email_id":"e"}`)
	}
	s := webhook.NewSender(d, fastOptions(clk))
	if q, f := s.Stats(); q != 0 || f != 0 {
		t.Fatalf("idle sender: Stats() = %d, %d", q, f)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-entered
	waitStats(t, s, 4, 1) // the head in flight, four behind it
	close(release)
	delivered := 0
	for delivered < 5 {
		select {
		case n := <-s.Events():
			if n.Kind == webhook.NoticeDelivered {
				delivered++
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%d of 5 delivered within 20s", delivered)
		}
	}
	waitStats(t, s, 0, 0)
	rv.checkSignatures(t)
}
