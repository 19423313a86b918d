package db_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

// logStore holds five webhook deliveries to one endpoint (the oldest
// delivered after two attempts, the next dead) and one SMTP reply.
func logStore(t *testing.T) (d *db.DB, ep string, ids []string) {
	t.Helper()
	ctx := context.Background()
	d = dbtest.MustOpen(t)
	ep, _ = dbtest.SeedEndpoint(t, d, "http://127.0.0.1:9/hook")
	dbtest.SeedEvents(t, d, `{"n":0}`, `{"n":1}`, `{"n":2}`, `{"n":3}`, `{"n":4}`)
	dls, err := d.Deliveries(ctx, db.DeliveryFilter{})
	if err != nil || len(dls) != 5 {
		t.Fatalf("%d deliveries (%v), want 5", len(dls), err)
	}
	for _, dl := range dls {
		ids = append([]string{dl.ID}, ids...) // oldest first
	}
	record := func(id, status string, code int) {
		dl, err := d.Delivery(ctx, id, 3*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		r := webhook.Result{Started: d.Now(), StatusCode: code, RequestBody: dl.Payload,
			RequestHeaders: http.Header{"Webhook-Id": {dl.WebhookID}}, ResponseHeaders: http.Header{"X-N": {fmt.Sprint(code)}}}
		if code != 200 {
			r.Class = webhook.ClassHTTPStatus
		}
		if _, err := d.Record(ctx, []webhook.Outcome{{Delivery: dl, Result: r, Status: status, LastError: fmt.Sprint("http ", code)}},
			webhook.DisablePolicy{}); err != nil {
			t.Fatal(err)
		}
	}
	record(ids[0], webhook.StatusRetrying, 503)
	record(ids[0], webhook.StatusDelivered, 200)
	record(ids[1], webhook.StatusDead, 500)
	msg := dbtest.SeedMessages(t, d, dbtest.Message("reply", "Hello", time.Unix(100, 0)))[0]
	draft, err := d.CreateDraft(ctx, msg, "Hi")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ApproveReply(ctx, draft, "human:t", "work", "<r@x>"); err != nil {
		t.Fatal(err)
	}
	return d, ep, ids
}

func TestDeliveriesFilterAndPage(t *testing.T) {
	ctx := context.Background()
	d, ep, ids := logStore(t)
	tests := map[string]struct {
		f    db.DeliveryFilter
		want []string // ids, newest first; "smtp" for the reply
	}{
		"all, newest first":    {db.DeliveryFilter{}, []string{"smtp", ids[4], ids[3], ids[2], ids[1], ids[0]}},
		"webhooks":             {db.DeliveryFilter{Kind: "webhook"}, []string{ids[4], ids[3], ids[2], ids[1], ids[0]}},
		"replies":              {db.DeliveryFilter{Kind: "smtp"}, []string{"smtp"}},
		"page":                 {db.DeliveryFilter{Kind: "webhook", Offset: 1, Limit: 2}, []string{ids[3], ids[2]}},
		"pending (index hint)": {db.DeliveryFilter{Status: "pending", EndpointID: ep}, []string{ids[4], ids[3], ids[2]}},
		"delivered":            {db.DeliveryFilter{Status: "delivered"}, []string{ids[0]}},
		"dead of another":      {db.DeliveryFilter{Status: "dead", EndpointID: "ep_other"}, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := d.Deliveries(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs []string
			for _, g := range got {
				if g.Kind == "smtp" {
					gotIDs = append(gotIDs, "smtp")
					continue
				}
				gotIDs = append(gotIDs, g.ID)
			}
			if fmt.Sprint(gotIDs) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", gotIDs, tc.want)
			}
			n, err := d.CountDeliveries(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if tc.f.Limit == 0 && n != len(tc.want) {
				t.Errorf("count %d, want %d", n, len(tc.want))
			}
		})
	}
	if n, err := d.CountDeliveries(ctx, db.DeliveryFilter{Kind: "smtp", Status: "delivered"}); err != nil || n != 0 {
		t.Errorf("delivered replies: %d (%v), want 0", n, err)
	}
	got, _ := d.Deliveries(ctx, db.DeliveryFilter{Status: "delivered"})
	if l := got[0]; l.Attempts != 2 || l.LastStatusCode != 200 || l.EndpointID != ep || l.EventType != "ticket.suggested" {
		t.Errorf("delivered row %+v, want 2 attempts, last 200, endpoint %s", l, ep)
	}
}

func TestAttemptsFilters(t *testing.T) {
	ctx := context.Background()
	d, ep, ids := logStore(t)
	atts, err := d.Attempts(ctx, db.AttemptFilter{DeliveryID: ids[0]})
	if err != nil || len(atts) != 2 {
		t.Fatalf("attempts of %s: %d (%v), want 2", ids[0], len(atts), err)
	}
	if a := atts[0]; a.Attempt != 1 || a.StatusCode != 503 || a.DeliveryID != ids[0] || a.EndpointID != ep ||
		a.WebhookID == "" || a.RequestHeaders.Get("Webhook-Id") != a.WebhookID || a.ResponseHeaders.Get("X-N") != "503" ||
		string(a.RequestBody) != `{"n":0}` {
		t.Errorf("first attempt %+v", a)
	}
	if atts[1].Attempt != 2 || atts[1].StatusCode != 200 {
		t.Errorf("second attempt %+v, want #2 with 200", atts[1])
	}
	// The most recent Limit, oldest first.
	last, err := d.Attempts(ctx, db.AttemptFilter{EndpointID: ep, Limit: 2})
	if err != nil || len(last) != 2 || last[0].DeliveryID != ids[0] || last[0].Attempt != 2 || last[1].DeliveryID != ids[1] {
		t.Errorf("the last two attempts %+v (%v), want %s #2 then %s #1", last, err, ids[0], ids[1])
	}
	for name, f := range map[string]db.AttemptFilter{
		"dead":           {Status: "dead"},
		"dead, webhooks": {Status: "dead", Kind: "webhook", EndpointID: ep},
	} {
		if got, err := d.Attempts(ctx, f); err != nil || len(got) != 1 || got[0].DeliveryID != ids[1] {
			t.Errorf("%s: %+v (%v), want the one attempt of %s", name, got, err, ids[1])
		}
	}
	if got, err := d.Attempts(ctx, db.AttemptFilter{Kind: "smtp"}); err != nil || len(got) != 0 {
		t.Errorf("reply attempts: %+v (%v), want none", got, err)
	}
}

func TestEndpointViews(t *testing.T) {
	ctx := context.Background()
	d, ep, _ := logStore(t)
	clock := time.UnixMilli(1_800_000_000_000)
	d.Now = func() time.Time { return clock }
	e, err := d.Endpoint(ctx, ep)
	if err != nil {
		t.Fatal(err)
	}
	if !e.Enabled || e.Pending != 3 || e.Dead != 1 || e.Delivered != 1 || !e.RotatingUntil.IsZero() || !e.DisabledAt.IsZero() {
		t.Errorf("endpoint %+v, want enabled with 3 pending, 1 dead, 1 delivered, no rotation", e)
	}
	if err := d.RotateEndpointSecret(ctx, ep, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", clock.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.DisableEndpoint(ctx, ep, "disabled by user"); err != nil {
		t.Fatal(err)
	}
	eps, err := d.Endpoints(ctx)
	if err != nil || len(eps) != 1 {
		t.Fatalf("endpoints %+v (%v)", eps, err)
	}
	if e := eps[0]; e.Enabled || !e.DisabledAt.Equal(clock) || !e.RotatingUntil.Equal(clock.Add(time.Hour)) || e.Pending != 3 || e.AutoDisabled() {
		t.Errorf("after rotate and disable: %+v", e)
	}
	if _, err := d.EnableEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(2 * time.Hour) // the grace period is over
	if e, err := d.Endpoint(ctx, ep); err != nil || !e.DisabledAt.IsZero() || !e.RotatingUntil.IsZero() {
		t.Errorf("re-enabled after the grace period: %+v (%v), want neither time", e, err)
	}
	if _, err := d.Endpoint(ctx, "ep_missing"); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("missing endpoint: %v, want ErrNotFound", err)
	}
}
