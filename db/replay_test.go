package db_test

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

// replayStore holds, for two endpoints a and b, one event an hour for
// four hours (created at t0, t0+1h, ...), each delivery recorded with
// status[i] (by event, the same for both endpoints). It returns the
// store, the endpoints, and the rows by endpoint, oldest first.
func replayStore(t *testing.T, status []string) (d *db.DB, a, b string, t0 time.Time, rows map[string][]db.DeliveryItem) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	t0 = now
	d = dbtest.MustOpen(t)
	d.Now = func() time.Time { return now }
	a, _ = dbtest.SeedEndpoint(t, d, "http://127.0.0.1:9/a")
	b, _ = dbtest.SeedEndpoint(t, d, "http://127.0.0.1:9/b")
	for i, st := range status {
		now = t0.Add(time.Duration(i) * time.Hour)
		dbtest.SeedEvents(t, d, `{"event":"ticket.suggested","n":`+string(rune('0'+i))+`}`)
		for _, ep := range []string{a, b} {
			dls, err := d.Deliveries(ctx, db.DeliveryFilter{EndpointID: ep, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			dl, err := d.Delivery(ctx, dls[0].ID, 3*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			r := webhook.Result{Started: now, StatusCode: 500, Class: webhook.ClassHTTPStatus, RequestBody: dl.Payload}
			if st == webhook.StatusDelivered {
				r.StatusCode, r.Class = 200, ""
			}
			if _, err := d.Record(ctx, []webhook.Outcome{{Delivery: dl, Result: r, Status: st}}, webhook.DisablePolicy{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	now = t0.Add(5 * time.Hour)
	rows = map[string][]db.DeliveryItem{}
	for _, ep := range []string{a, b} {
		got, err := d.Deliveries(ctx, db.DeliveryFilter{EndpointID: ep})
		if err != nil {
			t.Fatal(err)
		}
		sort.Slice(got, func(i, j int) bool { return got[i].CreatedAt.Before(got[j].CreatedAt) })
		rows[ep] = got
	}
	return d, a, b, t0, rows
}

// TestReplayMatchingByStatusEndpointAndWindow re-queues exactly the rows
// that match a status, an endpoint and a time window, keeping their
// webhook-ids; every other row keeps its status. A disabled endpoint's
// rows are counted as skipped and left alone.
func TestReplayMatchingByStatusEndpointAndWindow(t *testing.T) {
	ctx := context.Background()
	dead, ok := webhook.StatusDead, webhook.StatusDelivered
	tests := map[string]struct {
		filter  func(a, b string, t0 time.Time) db.DeliveryFilter
		disable bool     // disable b first
		want    []string // "a0" is endpoint a's delivery of event 0
		skipped int
	}{
		"dead, every endpoint": {filter: func(a, b string, t0 time.Time) db.DeliveryFilter {
			return db.DeliveryFilter{Status: dead}
		}, want: []string{"a0", "a2", "a3", "b0", "b2", "b3"}},
		"dead of one endpoint": {filter: func(a, b string, t0 time.Time) db.DeliveryFilter {
			return db.DeliveryFilter{Status: dead, EndpointID: b}
		}, want: []string{"b0", "b2", "b3"}},
		"dead since 2h after the first": {filter: func(a, b string, t0 time.Time) db.DeliveryFilter {
			return db.DeliveryFilter{Status: dead, EndpointID: a, Since: t0.Add(2 * time.Hour)}
		}, want: []string{"a2", "a3"}},
		"delivered in a window": {filter: func(a, b string, t0 time.Time) db.DeliveryFilter {
			return db.DeliveryFilter{Status: ok, Since: t0.Add(time.Hour), Until: t0.Add(2 * time.Hour)}
		}, want: []string{"a1", "b1"}},
		"a disabled endpoint is skipped": {filter: func(a, b string, t0 time.Time) db.DeliveryFilter {
			return db.DeliveryFilter{Status: dead}
		}, disable: true, want: []string{"a0", "a2", "a3"}, skipped: 3},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d, a, b, t0, rows := replayStore(t, []string{dead, ok, dead, dead})
			if tc.disable {
				if _, err := d.DisableEndpoint(ctx, b, "disabled by user"); err != nil {
					t.Fatal(err)
				}
			}
			before := map[string]string{}
			for _, r := range append(append([]db.DeliveryItem{}, rows[a]...), rows[b]...) {
				cur, _ := d.Deliveries(ctx, db.DeliveryFilter{EndpointID: r.EndpointID, Limit: 100})
				for _, c := range cur {
					if c.ID == r.ID {
						before[r.ID] = c.Status
					}
				}
			}
			res, err := d.ReplayMatching(ctx, tc.filter(a, b, t0))
			if err != nil {
				t.Fatal(err)
			}
			if res.Queued != len(tc.want) || res.Skipped != tc.skipped {
				t.Errorf("queued %d, skipped %d; want %d, %d", res.Queued, res.Skipped, len(tc.want), tc.skipped)
			}
			want := map[string]bool{}
			for _, w := range tc.want {
				ep := a
				if w[0] == 'b' {
					ep = b
				}
				want[rows[ep][int(w[1]-'0')].ID] = true
			}
			for _, ep := range []string{a, b} {
				now, err := d.Deliveries(ctx, db.DeliveryFilter{EndpointID: ep})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range now {
					var orig db.DeliveryItem
					for _, o := range rows[ep] {
						if o.ID == r.ID {
							orig = o
						}
					}
					if r.WebhookID != orig.WebhookID {
						t.Errorf("%s: webhook-id %s → %s", r.ID, orig.WebhookID, r.WebhookID)
					}
					switch {
					case want[r.ID] && r.Status != webhook.StatusPending:
						t.Errorf("%s: %s, want pending (replayed)", r.ID, r.Status)
					case !want[r.ID] && r.Status != before[r.ID]:
						t.Errorf("%s: %s → %s, want untouched", r.ID, before[r.ID], r.Status)
					}
				}
			}
		})
	}
	d, _, _, _, _ := replayStore(t, []string{dead})
	if _, err := d.ReplayMatching(ctx, db.DeliveryFilter{Status: webhook.StatusPending}); !errors.Is(err, db.ErrNotReplayable) {
		t.Errorf("replaying pending deliveries: %v, want ErrNotReplayable", err)
	}
}

// TestDeliveriesTimeWindow filters the log by the time deliveries were
// queued, the count (delivered ones included) agreeing with the rows.
func TestDeliveriesTimeWindow(t *testing.T) {
	ctx := context.Background()
	dead, ok := webhook.StatusDead, webhook.StatusDelivered
	d, _, _, t0, _ := replayStore(t, []string{ok, dead, ok, dead})
	for name, tc := range map[string]struct {
		f    db.DeliveryFilter
		want int
	}{
		"since":             {db.DeliveryFilter{Since: t0.Add(90 * time.Minute)}, 4},
		"until":             {db.DeliveryFilter{Until: t0.Add(90 * time.Minute)}, 4},
		"window, delivered": {db.DeliveryFilter{Status: ok, Since: t0.Add(time.Hour), Until: t0.Add(3 * time.Hour)}, 2},
		"window, dead":      {db.DeliveryFilter{Status: dead, Since: t0.Add(time.Hour), Until: t0.Add(3 * time.Hour)}, 2},
		"nothing yet":       {db.DeliveryFilter{Since: t0.Add(10 * time.Hour)}, 0},
	} {
		rows, err := d.Deliveries(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		n, err := d.CountDeliveries(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != tc.want || n != tc.want {
			t.Errorf("%s: %d rows, count %d; want %d", name, len(rows), n, tc.want)
		}
	}
}

// TestLogTryLeavesTheOriginal logs a "replay --to" try: a test delivery
// to the URL with the original's webhook-id and one attempt; the
// original's row and attempts are unchanged.
func TestLogTryLeavesTheOriginal(t *testing.T) {
	ctx := context.Background()
	d, a, _, _, rows := replayStore(t, []string{webhook.StatusDead})
	orig := rows[a][0]
	atts := func(id string) []db.AttemptItem {
		got, err := d.Attempts(ctx, db.AttemptFilter{DeliveryID: id})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	before := atts(orig.ID)
	tickets := dbtest.Count(t, d, "tickets")
	dl, err := d.Delivery(ctx, orig.ID, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	o := webhook.Outcome{Delivery: dl, Status: webhook.StatusDelivered, Result: webhook.Result{Started: d.Now(), StatusCode: 204,
		RequestBody: dl.Payload, RequestHeaders: http.Header{"Webhook-Id": {dl.WebhookID}}}}
	id, err := d.LogTry(ctx, orig.ID, "http://127.0.0.1:3000/hook", o)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := d.Deliveries(ctx, db.DeliveryFilter{EndpointID: a})
	for _, r := range after {
		if r.ID == orig.ID && (r.Status != orig.Status || r.Attempts != orig.Attempts || r.UpdatedAt != orig.UpdatedAt) {
			t.Errorf("original changed: %+v → %+v", orig, r)
		}
	}
	if got := atts(orig.ID); len(got) != len(before) {
		t.Errorf("original has %d attempts, had %d", len(got), len(before))
	}
	all, _ := d.Deliveries(ctx, db.DeliveryFilter{})
	var try db.DeliveryItem
	for _, r := range all {
		if r.ID == id {
			try = r
		}
	}
	if !try.Test || try.URL != "http://127.0.0.1:3000/hook" || try.WebhookID != orig.WebhookID ||
		try.Status != webhook.StatusDelivered || try.Attempts != 1 || try.LastStatusCode != 204 {
		t.Errorf("try logged as %+v", try)
	}
	if got := atts(id); len(got) != 1 || string(got[0].RequestBody) != string(dl.Payload) {
		t.Errorf("try attempts %+v", got)
	}
	if n := dbtest.Count(t, d, "tickets"); n != tickets {
		t.Errorf("%d real ticket events, had %d (a try is a test)", n, tickets)
	}
}
