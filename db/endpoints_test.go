package db_test

import (
	"context"
	"errors"
	"testing"

	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

func insertEndpoint(tb testing.TB, d *db.DB, id string, enabled bool, reason string) {
	tb.Helper()
	if _, err := d.Writer().Exec(`INSERT INTO endpoints (id, url, secret, enabled, disabled_reason, created_at, updated_at)
		VALUES (?, 'https://h.example/' || ?, 'whsec_x', ?, ?, 0, 0)`, id, id, enabled, reason); err != nil {
		tb.Fatal(err)
	}
}

func TestEndpointAutoDisabled(t *testing.T) {
	tests := map[string]struct {
		e    db.Endpoint
		want bool
	}{
		"enabled":       {db.Endpoint{Enabled: true}, false},
		"by user":       {db.Endpoint{DisabledReason: "disabled by user"}, false},
		"auto":          {db.Endpoint{DisabledReason: "auto-disabled: 30 failed attempts in 30m"}, true},
		"gone":          {db.Endpoint{DisabledReason: "410 Gone"}, true},
		"manual":        {db.Endpoint{DisabledReason: "manual"}, false},
		"no reason yet": {db.Endpoint{}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.e.AutoDisabled(); got != tc.want {
				t.Errorf("AutoDisabled() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRemoveEndpointKeepsTheLog(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	ep, err := d.CreateEndpoint(ctx, "http://127.0.0.1:1/a", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	enqueueWebhookEvent(t, d, `{}`)
	if _, err := d.RemoveEndpoint(ctx, ep, false); !errors.Is(err, db.ErrEndpointBusy) {
		t.Fatalf("rm with a pending delivery: %v, want ErrEndpointBusy", err)
	}
	n, err := d.RemoveEndpoint(ctx, ep, true)
	if err != nil || n != 1 {
		t.Fatalf("rm --force: %d, %v", n, err)
	}
	logs, err := d.Deliveries(ctx, db.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 1 || logs[0].Status != webhook.StatusCanceled || logs[0].EndpointID != ep {
		t.Fatalf("log after rm: %+v, want the delivery kept as canceled", logs)
	}
	if err := d.Replay(ctx, logs[0].ID); !errors.Is(err, db.ErrNotReplayable) {
		t.Fatalf("replay to a removed endpoint: %v", err)
	}
	if _, err := d.Endpoint(ctx, ep); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("endpoint after rm: %v", err)
	}
}
