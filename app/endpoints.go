package app

import (
	"context"
	"fmt"
	"time"

	"smista/db"
	"smista/triage"
	"smista/webhook"
)

// NewEndpoint is what AddEndpoint created.
type NewEndpoint struct {
	ID string
	// URL is the normalised URL that was stored.
	URL string
	// Secret is the signing secret; Generated is true when AddEndpoint made
	// it (the caller shows it once).
	Secret    string
	Generated bool
}

// AddEndpoint checks rawURL against the address guard (allow_private
// included) and stores the normalised URL with secret, or a generated one
// when secret is "". It fails on a refused or malformed URL or a
// malformed secret, storing nothing.
func (a *App) AddEndpoint(ctx context.Context, rawURL, secret string) (NewEndpoint, error) {
	u, err := a.sendOpts.Guard.CheckURL(ctx, nil, rawURL)
	if err != nil {
		return NewEndpoint{}, fmt.Errorf("endpoint url: %w", err)
	}
	ep := NewEndpoint{URL: u, Secret: secret}
	if secret == "" {
		if ep.Secret, err = webhook.GenerateSecret(); err != nil {
			return NewEndpoint{}, fmt.Errorf("add endpoint: %w", err)
		}
		ep.Generated = true
	} else if err := webhook.ValidateSecret(secret); err != nil {
		return NewEndpoint{}, fmt.Errorf("endpoint secret: %w", err)
	}
	if ep.ID, err = a.db.CreateEndpoint(ctx, u, ep.Secret); err != nil {
		return NewEndpoint{}, err
	}
	a.record(ctx, "", "added endpoint", ep.ID, "")
	a.changed(TopicEndpoints)
	return ep, nil
}

// EnableEndpoint enables an endpoint; its paused deliveries resume. It
// returns how many resumed.
func (a *App) EnableEndpoint(ctx context.Context, id string) (int, error) {
	n, err := a.db.EnableEndpoint(ctx, id)
	if err != nil {
		return 0, err
	}
	a.record(ctx, "", "enabled endpoint", id, "")
	a.wake()
	a.changed(TopicEndpoints | TopicDeliveries)
	return n, nil
}

// DisableEndpoint disables an endpoint by hand; its waiting deliveries are
// paused until it is enabled. It returns how many were paused.
func (a *App) DisableEndpoint(ctx context.Context, id string) (int, error) {
	n, err := a.db.DisableEndpoint(ctx, id, "disabled by user")
	if err != nil {
		return 0, err
	}
	a.record(ctx, "", "disabled endpoint", id, "")
	// Waking the sender makes the disable take effect before its next
	// attempt, not at its next poll.
	a.wake()
	a.changed(TopicEndpoints | TopicDeliveries)
	return n, nil
}

// RotateSecret gives an endpoint a new generated secret and returns it;
// the old one keeps signing too until the returned time.
func (a *App) RotateSecret(ctx context.Context, id string) (string, time.Time, error) {
	secret, err := webhook.GenerateSecret()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("rotate secret: %w", err)
	}
	until := a.now().Add(a.grace)
	if err := a.db.RotateEndpointSecret(ctx, id, secret, until); err != nil {
		return "", time.Time{}, err
	}
	a.record(ctx, "", "rotated the secret of endpoint", id, "")
	a.changed(TopicEndpoints)
	return secret, until, nil
}

// RemoveEndpoint deletes an endpoint; its delivery log is kept. With force
// its undelivered deliveries are canceled (kept in the log); without, it
// fails with db.ErrEndpointBusy while any wait. It returns how many were
// canceled.
func (a *App) RemoveEndpoint(ctx context.Context, id string, force bool) (int, error) {
	n, err := a.db.RemoveEndpoint(ctx, id, force)
	if err != nil {
		return 0, err
	}
	a.record(ctx, "", "removed endpoint", id, "")
	a.wake()
	a.changed(TopicEndpoints | TopicDeliveries)
	return n, nil
}

// QueueUndeliveredTickets queues the tickets decided while no endpoint
// existed to every endpoint there is now (same webhook-id rules as any
// delivery) and returns how many tickets it queued.
func (a *App) QueueUndeliveredTickets(ctx context.Context) (int, error) {
	n, err := a.db.QueueUndeliveredTickets(ctx)
	if err != nil {
		return 0, err
	}
	if n > 0 {
		a.record(ctx, "", fmt.Sprintf("queued %d undelivered tickets", n), "", "")
		a.wake()
		a.changed(TopicDeliveries | TopicEndpoints | TopicTriage)
	}
	return n, nil
}

// TestEndpoint queues a test ticket.suggested event (sample values) for one
// endpoint and wakes the running sender; it returns the delivery id.
func (a *App) TestEndpoint(ctx context.Context, id string) (string, error) {
	dlv, err := a.db.EnqueueTestEvent(ctx, id, triage.SamplePayload(a.now()))
	if err != nil {
		return "", err
	}
	a.record(ctx, "", "tested endpoint", id, "")
	a.wake()
	a.changed(TopicDeliveries | TopicEndpoints)
	return dlv, nil
}

// Replay queues a delivery again: same event, same webhook-id, a fresh
// signature and retry round.
func (a *App) Replay(ctx context.Context, deliveryID string) error {
	if err := a.db.Replay(ctx, deliveryID); err != nil {
		return err
	}
	a.record(ctx, "", "replayed delivery", deliveryID, "")
	a.wake()
	a.changed(TopicDeliveries | TopicEndpoints)
	return nil
}

// ReplayDead queues every dead delivery of an endpoint again and returns
// how many it queued.
func (a *App) ReplayDead(ctx context.Context, endpointID string) (int, error) {
	f := db.DeliveryFilter{Status: webhook.StatusDead, EndpointID: endpointID, Limit: 200}
	n := 0
	defer func() {
		if n > 0 {
			a.record(ctx, "", fmt.Sprintf("replayed %d dead deliveries of endpoint", n), endpointID, "")
			a.wake()
			a.changed(TopicDeliveries | TopicEndpoints)
		}
	}()
	for {
		// Each replay leaves the dead set, so the first page is always fresh.
		dead, err := a.db.Deliveries(ctx, f)
		if err != nil {
			return n, fmt.Errorf("replay dead: %w", err)
		}
		if len(dead) == 0 {
			return n, nil
		}
		for _, d := range dead {
			if err := a.db.Replay(ctx, d.ID); err != nil {
				return n, fmt.Errorf("replay dead: %w", err)
			}
			n++
		}
	}
}
