// Package actions implements the UI's action interfaces (ui.Overrider,
// ui.Replayer, ui.EndpointAdmin, ui.EndpointTester) over the store, the
// triage payload builder and the webhook package. main wires it into
// ui.Deps; the UI itself never imports triage or webhook.
package actions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"smista/db"
	"smista/triage"
	"smista/ui"
	"smista/webhook"
)

// Waker is told when new work was queued in the outbox (the sender's
// Notify), so it is sent at once instead of at the next scan.
type Waker interface{ Notify() }

// Actions acts on the store. DB is required; Wake may be nil.
type Actions struct {
	DB   *db.DB
	Wake Waker
	// RawEmailURL is the raw_email_url template of the payload ("" = default).
	RawEmailURL string
	// RotationGrace is how long a rotated-out secret keeps signing.
	RotationGrace time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (a *Actions) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Actions) wake() {
	if a.Wake != nil {
		a.Wake.Notify()
	}
}

// SuggestTicket queues the email's ticket.suggested event (the unchanged
// payload contract, built from the stored triage result) and records the
// human decision, in one transaction. It fails with db.ErrDuplicateEvent
// when the email already has a ticket event.
func (a *Actions) SuggestTicket(ctx context.Context, emailID, who string) error {
	md, err := a.DB.MessageDetail(ctx, emailID)
	if err != nil {
		return fmt.Errorf("suggest ticket: %w", err)
	}
	r := triage.Result{Intent: triage.IntentSupport, Priority: triage.PriorityNormal, Confidence: 1}
	if t := md.Triage; t != nil && t.Intent != "" {
		r.Intent, r.Priority, r.Summary = triage.Intent(t.Intent), triage.Priority(t.Priority), t.Summary
		r.Confidence = t.Confidence
	}
	payload, err := triage.TicketPayload(md.Message, r, a.RawEmailURL)
	if err != nil {
		return fmt.Errorf("suggest ticket: %w", err)
	}
	if _, err := a.DB.OverrideTicket(ctx, emailID, who, payload); err != nil {
		if errors.Is(err, db.ErrDuplicateEvent) {
			return fmt.Errorf("suggest ticket: this email already has a ticket event: %w", err)
		}
		return fmt.Errorf("suggest ticket: %w", err)
	}
	a.wake()
	return nil
}

// NotTicket records that the email is not a ticket and cancels its
// undelivered deliveries; it fails with db.ErrDeliveryStarted once any
// delivery was attempted.
func (a *Actions) NotTicket(ctx context.Context, emailID, who string) error {
	if _, err := a.DB.OverrideNotTicket(ctx, emailID, who); err != nil {
		return fmt.Errorf("not a ticket: %w", err)
	}
	// The sender re-reads its queues: a canceled head must not go out.
	a.wake()
	return nil
}

// Replay queues a delivery again with the same webhook-id.
func (a *Actions) Replay(ctx context.Context, deliveryID string) error {
	if err := a.DB.Replay(ctx, deliveryID); err != nil {
		return err
	}
	a.wake()
	return nil
}

// ReplayDead queues every dead delivery of the endpoint again and returns
// how many it queued.
func (a *Actions) ReplayDead(ctx context.Context, endpointID string) (int, error) {
	f := db.DeliveryFilter{Status: "dead", EndpointID: endpointID, Limit: 200}
	n := 0
	for {
		// Each replay leaves the dead set, so the first page is always fresh.
		dead, err := a.DB.Deliveries(ctx, f)
		if err != nil {
			return n, fmt.Errorf("replay dead: %w", err)
		}
		if len(dead) == 0 {
			break
		}
		for _, d := range dead {
			if err := a.DB.Replay(ctx, d.ID); err != nil {
				return n, fmt.Errorf("replay dead: %w", err)
			}
			n++
		}
	}
	if n > 0 {
		a.wake()
	}
	return n, nil
}

// AddEndpoint creates an endpoint with a generated secret and returns both.
func (a *Actions) AddEndpoint(ctx context.Context, rawURL string) (string, string, error) {
	if _, err := webhook.ParseURL(rawURL); err != nil {
		return "", "", fmt.Errorf("add endpoint: %w", err)
	}
	secret, err := webhook.GenerateSecret()
	if err != nil {
		return "", "", fmt.Errorf("add endpoint: %w", err)
	}
	id, err := a.DB.CreateEndpoint(ctx, rawURL, secret)
	if err != nil {
		return "", "", fmt.Errorf("add endpoint: %w", err)
	}
	return id, secret, nil
}

// SetEndpointEnabled enables (resuming its paused queue) or disables an endpoint.
func (a *Actions) SetEndpointEnabled(ctx context.Context, id string, enabled bool) error {
	if enabled {
		if _, err := a.DB.EnableEndpoint(ctx, id); err != nil {
			return err
		}
		a.wake()
		return nil
	}
	if _, err := a.DB.DisableEndpoint(ctx, id, "disabled by user"); err != nil {
		return err
	}
	// Waking the sender makes the disable take effect before its next
	// attempt, not at its next poll.
	a.wake()
	return nil
}

// RotateSecret gives the endpoint a new generated secret and returns it; the
// old one keeps signing for RotationGrace.
func (a *Actions) RotateSecret(ctx context.Context, id string) (string, error) {
	secret, err := webhook.GenerateSecret()
	if err != nil {
		return "", fmt.Errorf("rotate secret: %w", err)
	}
	if err := a.DB.RotateEndpointSecret(ctx, id, secret, a.now().Add(a.RotationGrace)); err != nil {
		return "", err
	}
	return secret, nil
}

// RemoveEndpoint deletes the endpoint, canceling what still waits for it
// (the UI asked for confirmation); its delivery log is kept.
func (a *Actions) RemoveEndpoint(ctx context.Context, id string) error {
	if _, err := a.DB.RemoveEndpoint(ctx, id, true); err != nil {
		return err
	}
	a.wake()
	return nil
}

// TestEndpoint queues a test event for one endpoint.
func (a *Actions) TestEndpoint(ctx context.Context, id string) error {
	if _, err := a.DB.EnqueueTestEvent(ctx, id, webhook.SamplePayload(a.now())); err != nil {
		return err
	}
	a.wake()
	return nil
}

var (
	_ ui.Overrider      = (*Actions)(nil)
	_ ui.Replayer       = (*Actions)(nil)
	_ ui.EndpointAdmin  = (*Actions)(nil)
	_ ui.EndpointTester = (*Actions)(nil)
)
