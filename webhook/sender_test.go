package webhook_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

func TestScheduleRetriesThenDead(t *testing.T) {
	clk := newClock()
	d := mustOpenDB(t, clk.Now)
	rv := newReceiver(t, clk.Now)
	rv.respond = func(int, http.ResponseWriter, *http.Request) int { return http.StatusInternalServerError }
	ep, secret := dbtest.SeedEndpoint(t, d, rv.srv.URL+"/hook")
	rv.setSecrets(secret)
	t0 := clk.Now()
	dbtest.SeedEvents(t, d, `{"event":"ticket.suggested","email_id":"e1"}`)
	r := startSender(t, d, fastOptions(clk))

	wantAt := []time.Duration{0, 30 * time.Second, 90 * time.Second, 180 * time.Second}
	for i, at := range wantAt {
		if i > 0 {
			// One second early: nothing may happen before the schedule.
			clk.Advance(at - wantAt[i-1] - time.Second)
			r.s.Notify()
			clk.Advance(time.Second)
		}
		kind := webhook.NoticeFailed
		if i == len(wantAt)-1 {
			kind = webhook.NoticeDead
		}
		n := r.next(t, webhook.NoticeFailed, webhook.NoticeDead, webhook.NoticeDelivered)
		if n.Kind != kind || n.Attempt != i+1 || n.ErrorClass != webhook.ClassHTTPStatus || n.StatusCode != 500 {
			t.Fatalf("attempt %d: notice %+v, want %s attempt %d http_status 500", i+1, n, kind, i+1)
		}
		if i < len(wantAt)-1 {
			if got, want := n.NextAttemptAt.Sub(t0), wantAt[i+1]; got != want {
				t.Fatalf("attempt %d: next attempt at +%s, want +%s", i+1, got, want)
			}
		}
	}
	r.stop()
	rv.checkSignatures(t)

	logs, err := d.Attempts(context.Background(), db.AttemptFilter{EndpointID: ep, Kind: "webhook"})
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != len(wantAt) {
		t.Fatalf("%d attempts logged, want %d", len(logs), len(wantAt))
	}
	got := rv.requests()
	for i, l := range logs {
		if off := l.StartedAt.Sub(t0); off != wantAt[i] {
			t.Errorf("attempt %d started at +%s, want +%s", i+1, off, wantAt[i])
		}
		if l.Attempt != i+1 || l.ErrorClass != webhook.ClassHTTPStatus {
			t.Errorf("attempt %d logged as #%d class %q", i+1, l.Attempt, l.ErrorClass)
		}
		if got[i].ID != got[0].ID {
			t.Errorf("attempt %d webhook-id %s, want the stable %s", i+1, got[i].ID, got[0].ID)
		}
		if i > 0 && got[i].Timestamp == got[i-1].Timestamp {
			t.Errorf("attempt %d reused webhook-timestamp %s", i+1, got[i].Timestamp)
		}
		if l.RequestHeaders.Get(webhook.HeaderSignature) != got[i].Signature {
			t.Errorf("attempt %d: logged signature differs from the one sent", i+1)
		}
		if strings.Contains(fmt.Sprint(l.RequestHeaders), strings.TrimPrefix(secret, "whsec_")) {
			t.Errorf("attempt %d: the secret is in the logged headers", i+1)
		}
	}
	dl, err := d.Deliveries(context.Background(), db.DeliveryFilter{Kind: "webhook"})
	if err != nil {
		t.Fatal(err)
	}
	if len(dl) != 1 || dl[0].Status != webhook.StatusDead || dl[0].Attempts != 4 || !dl[0].NextAttemptAt.IsZero() {
		t.Fatalf("delivery after the schedule: %+v, want dead after 4 attempts", dl)
	}
}

func TestAutoDisable(t *testing.T) {
	tests := map[string]struct {
		spacing      time.Duration
		wantDisabled bool
	}{
		// 30 attempts at 22 spacing steps: 22 minutes.
		"30 failures within 30m disable": {spacing: time.Minute, wantDisabled: true},
		// 22 × 85 s = 31 min 10 s: the first failure is out of the window.
		"30 failures over 31m do not": {spacing: 85 * time.Second, wantDisabled: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			clk := newClock()
			d := mustOpenDB(t, clk.Now)
			rv := newReceiver(t, clk.Now)
			rv.respond = func(int, http.ResponseWriter, *http.Request) int { return http.StatusServiceUnavailable }
			ep, secret := dbtest.SeedEndpoint(t, d, rv.srv.URL)
			rv.setSecrets(secret)
			for i := range 8 {
				dbtest.SeedEvents(t, d, fmt.Sprintf(`{"email_id":"e%d"}`, i))
			}
			opts := fastOptions(clk)
			opts.Retries = []time.Duration{tc.spacing, tc.spacing, tc.spacing}
			r := startSender(t, d, opts)
			var last webhook.Notice
			for i := 1; i <= 30; i++ {
				last = r.next(t, webhook.NoticeFailed, webhook.NoticeDead, webhook.NoticePaused, webhook.NoticeDelivered)
				e, err := d.Endpoint(context.Background(), ep)
				if err != nil {
					t.Fatal(err)
				}
				if i < 30 && !e.Enabled {
					t.Fatalf("disabled after %d failures, want 30", i)
				}
				if i < 30 && last.Kind == webhook.NoticeFailed {
					clk.Advance(tc.spacing)
					r.s.Notify()
				}
			}
			e, err := d.Endpoint(context.Background(), ep)
			if err != nil {
				t.Fatal(err)
			}
			if e.Enabled == tc.wantDisabled {
				t.Fatalf("after 30 failures spaced %s: enabled=%v, want disabled=%v", tc.spacing, e.Enabled, tc.wantDisabled)
			}
			if tc.wantDisabled {
				if e.DisabledReason != "auto-disabled: 30 failed attempts in 30m" {
					t.Errorf("reason %q", e.DisabledReason)
				}
				if last.Kind != webhook.NoticePaused {
					t.Errorf("30th attempt notice %s, want paused", last.Kind)
				}
				n := r.next(t, webhook.NoticeDisabled)
				if n.EndpointID != ep || !strings.Contains(n.Error, "auto-disabled") {
					t.Errorf("disabled notice %+v", n)
				}
				paused, err := d.Deliveries(context.Background(), db.DeliveryFilter{Status: webhook.StatusPaused, Kind: "webhook"})
				if err != nil {
					t.Fatal(err)
				}
				// 7 deliveries died; the 8th (mid-schedule) waits paused.
				if len(paused) != 1 {
					t.Errorf("%d paused deliveries, want 1", len(paused))
				}
			}
			r.stop()
			rv.checkSignatures(t)
			if got := len(rv.requests()); got != 30 {
				t.Errorf("receiver saw %d requests, want 30", got)
			}
		})
	}
}

// eventOf extracts email_id from the test bodies.
func eventOf(body string) string {
	_, rest, _ := strings.Cut(body, `"email_id":"`)
	id, _, _ := strings.Cut(rest, `"`)
	return id
}

func TestFIFOPerEndpointWhileAnotherFails(t *testing.T) {
	clk := newClock()
	d := mustOpenDB(t, clk.Now)
	failing := newReceiver(t, clk.Now)
	failing.respond = func(n int, _ http.ResponseWriter, _ *http.Request) int {
		if n < 2 {
			return http.StatusBadGateway
		}
		return http.StatusNoContent
	}
	healthy := newReceiver(t, clk.Now)
	_, s1 := dbtest.SeedEndpoint(t, d, failing.srv.URL)
	_, s2 := dbtest.SeedEndpoint(t, d, healthy.srv.URL)
	failing.setSecrets(s1)
	healthy.setSecrets(s2)
	for i := range 5 {
		dbtest.SeedEvents(t, d, fmt.Sprintf(`{"email_id":"e%d"}`, i))
	}
	r := startSender(t, d, fastOptions(clk))
	// The healthy endpoint gets all five while the other's head fails.
	for delivered, failed := 0, 0; delivered < 5 || failed < 1; {
		switch n := r.next(t, webhook.NoticeDelivered, webhook.NoticeFailed); {
		case n.Kind == webhook.NoticeFailed && n.URL == failing.srv.URL:
			failed++
		case n.Kind == webhook.NoticeDelivered && n.URL == healthy.srv.URL:
			delivered++
		default:
			t.Fatalf("unexpected notice %+v", n)
		}
	}
	if got := len(failing.requests()); got != 1 {
		t.Fatalf("failing endpoint saw %d requests while its head waits, want 1", got)
	}
	clk.Advance(30 * time.Second)
	r.s.Notify()
	r.next(t, webhook.NoticeFailed)
	clk.Advance(60 * time.Second)
	r.s.Notify()
	for range 5 {
		r.next(t, webhook.NoticeDelivered)
	}
	r.stop()
	failing.checkSignatures(t)
	healthy.checkSignatures(t)
	var order []string
	for _, g := range failing.requests() {
		order = append(order, eventOf(g.Body))
	}
	if got, want := strings.Join(order, ","), "e0,e0,e0,e1,e2,e3,e4"; got != want {
		t.Errorf("failing endpoint order %s, want %s", got, want)
	}
	order = order[:0]
	for _, g := range healthy.requests() {
		order = append(order, eventOf(g.Body))
	}
	if got, want := strings.Join(order, ","), "e0,e1,e2,e3,e4"; got != want {
		t.Errorf("healthy endpoint order %s, want %s", got, want)
	}
}

func TestPausedThenEnabledDeliversInOrder(t *testing.T) {
	clk := newClock()
	d := mustOpenDB(t, clk.Now)
	rv := newReceiver(t, clk.Now)
	ep, secret := dbtest.SeedEndpoint(t, d, rv.srv.URL)
	rv.setSecrets(secret)
	ctx := context.Background()
	if _, err := d.DisableEndpoint(ctx, ep, "disabled by user"); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		dbtest.SeedEvents(t, d, fmt.Sprintf(`{"email_id":"e%d"}`, i))
	}
	s := webhook.NewSender(d, fastOptions(clk))
	if err := s.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(rv.requests()); got != 0 {
		t.Fatalf("a disabled endpoint received %d requests", got)
	}
	paused, err := d.Deliveries(ctx, db.DeliveryFilter{Status: webhook.StatusPaused, Kind: "webhook"})
	if err != nil {
		t.Fatal(err)
	}
	if len(paused) != 4 {
		t.Fatalf("%d paused, want 4", len(paused))
	}
	n, err := d.EnableEndpoint(ctx, ep)
	if err != nil || n != 4 {
		t.Fatalf("enable: %d resumed, %v", n, err)
	}
	if err := webhook.NewSender(d, fastOptions(clk)).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	rv.checkSignatures(t)
	var order []string
	for _, g := range rv.requests() {
		order = append(order, eventOf(g.Body))
	}
	if got, want := strings.Join(order, ","), "e0,e1,e2,e3"; got != want {
		t.Errorf("order after re-enable %s, want %s", got, want)
	}
	delivered, err := d.Deliveries(ctx, db.DeliveryFilter{Status: webhook.StatusDelivered, Kind: "webhook"})
	if err != nil {
		t.Fatal(err)
	}
	if len(delivered) != 4 {
		t.Errorf("%d delivered, want 4", len(delivered))
	}
}

func TestFailureClasses(t *testing.T) {
	refused := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr + "/"
	}
	tests := map[string]struct {
		respond      func(n int, w http.ResponseWriter, r *http.Request) int
		url          func(t *testing.T) string // overrides the receiver
		wantClass    string
		wantCode     int
		wantDisabled bool
		timeout      time.Duration // the attempt timeout; 0: the default 5s
	}{
		"410 disables the endpoint": {
			respond:   func(int, http.ResponseWriter, *http.Request) int { return http.StatusGone },
			wantClass: webhook.ClassHTTPStatus, wantCode: 410, wantDisabled: true,
		},
		"301 is a failure, never followed": {
			respond: func(_ int, w http.ResponseWriter, _ *http.Request) int {
				w.Header().Set("Location", "/elsewhere")
				return http.StatusMovedPermanently
			},
			wantClass: webhook.ClassRedirect, wantCode: 301,
		},
		"a receiver sleeping 6s is a timeout": {
			respond: func(_ int, _ http.ResponseWriter, r *http.Request) int {
				select {
				case <-r.Context().Done():
				case <-time.After(6 * time.Second):
				}
				return 0
			},
			wantClass: webhook.ClassTimeout, timeout: 300 * time.Millisecond,
		},
		"connection refused is connect": {url: refused, wantClass: webhook.ClassConnect},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			clk := newClock()
			d := mustOpenDB(t, clk.Now)
			rv := newReceiver(t, clk.Now)
			rv.respond = tc.respond
			url := rv.srv.URL + "/hook"
			if tc.url != nil {
				url = tc.url(t)
			}
			ep, secret := dbtest.SeedEndpoint(t, d, url)
			rv.setSecrets(secret)
			dbtest.SeedEvents(t, d, `{"email_id":"e1"}`)
			opts := fastOptions(clk)
			opts.Timeout = tc.timeout
			r := startSender(t, d, opts)
			n := r.next(t, webhook.NoticeFailed, webhook.NoticePaused, webhook.NoticeDelivered, webhook.NoticeDead)
			if n.ErrorClass != tc.wantClass || n.StatusCode != tc.wantCode {
				t.Fatalf("notice %+v: want class %s code %d", n, tc.wantClass, tc.wantCode)
			}
			if tc.wantDisabled {
				dn := r.next(t, webhook.NoticeDisabled)
				if dn.EndpointID != ep || !strings.Contains(dn.Error, "410") {
					t.Errorf("disabled notice %+v", dn)
				}
			}
			r.stop()
			rv.checkSignatures(t)
			e, err := d.Endpoint(context.Background(), ep)
			if err != nil {
				t.Fatal(err)
			}
			if e.Enabled == tc.wantDisabled {
				t.Errorf("endpoint enabled=%v, want disabled=%v (reason %q)", e.Enabled, tc.wantDisabled, e.DisabledReason)
			}
			for _, g := range rv.requests() {
				if g.Status == 0 {
					continue
				}
			}
			for _, l := range must(d.Attempts(context.Background(), db.AttemptFilter{Kind: "webhook"})) {
				if l.ErrorClass != tc.wantClass {
					t.Errorf("logged class %q, want %q", l.ErrorClass, tc.wantClass)
				}
			}
			if tc.wantClass == webhook.ClassRedirect {
				for _, g := range rv.requests() {
					if g.ID == "" {
						t.Errorf("a request without webhook-id reached the receiver: the redirect was followed")
					}
				}
				if got := len(rv.requests()); got != 1 {
					t.Errorf("receiver saw %d requests, want 1 (Location never requested)", got)
				}
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
