package app

import (
	"context"
	"fmt"
	"time"

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
	// Scheme is "v1" (HMAC) or "v1a" (Ed25519); ReceiverKey is what the
	// receiver verifies with: the secret for v1, the whpk_ public key for
	// v1a (not secret).
	Scheme      string
	ReceiverKey string
}

// AddEndpoint checks rawURL against the address guard (allow_private
// included) and stores the normalised URL with secret, or a generated one
// when secret is "". It fails on a refused or malformed URL or a
// malformed secret, storing nothing.
func (a *App) AddEndpoint(ctx context.Context, rawURL, secret string) (NewEndpoint, error) {
	return a.AddSignedEndpoint(ctx, rawURL, secret, "")
}

// AddSignedEndpoint is AddEndpoint with a signing scheme for a generated
// secret: "v1" or "" (HMAC-SHA256, a whsec_ secret) or "v1a" (Ed25519: a
// whsk_ key signs, the receiver gets the whpk_ public key). A given
// secret's form sets the scheme: whsec_ is v1, whsk_ v1a. It fails with
// webhook.ErrBadScheme for another scheme.
func (a *App) AddSignedEndpoint(ctx context.Context, rawURL, secret, scheme string) (NewEndpoint, error) {
	u, err := a.sendOpts.Guard.CheckURL(ctx, nil, rawURL)
	if err != nil {
		return NewEndpoint{}, fmt.Errorf("endpoint url: %w", err)
	}
	ep := NewEndpoint{URL: u, Secret: secret}
	if secret == "" {
		if ep.Secret, _, err = webhook.GenerateSigningKey(scheme); err != nil {
			return NewEndpoint{}, fmt.Errorf("add endpoint: %w", err)
		}
		ep.Generated = true
	} else if err := webhook.ValidateSecret(secret); err != nil {
		return NewEndpoint{}, fmt.Errorf("endpoint secret: %w", err)
	} else if scheme != "" && webhook.Scheme(secret) != scheme {
		return NewEndpoint{}, fmt.Errorf("endpoint secret: a %s secret for scheme %s: %w", webhook.Scheme(secret), scheme, webhook.ErrBadScheme)
	}
	ep.Scheme = webhook.Scheme(ep.Secret)
	ep.ReceiverKey, _ = webhook.PublicKey(ep.Secret)
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

// RotateSecret gives an endpoint a new generated secret of its scheme and
// returns what its receiver verifies with (the secret for v1, the whpk_
// public key for v1a); the old secret keeps signing too until the
// returned time.
func (a *App) RotateSecret(ctx context.Context, id string) (string, time.Time, error) {
	return a.RotateKey(ctx, id, "")
}

// RotateKey is RotateSecret to a scheme ("" keeps the endpoint's): moving
// an endpoint from v1 to v1a this way sends both signatures during the
// grace period, so its receiver can switch without losing an event.
func (a *App) RotateKey(ctx context.Context, id, scheme string) (string, time.Time, error) {
	if scheme == "" {
		ep, err := a.db.Endpoint(ctx, id)
		if err != nil {
			return "", time.Time{}, err
		}
		scheme = ep.Scheme
	}
	secret, receiverKey, err := webhook.GenerateSigningKey(scheme)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("rotate secret: %w", err)
	}
	until := a.now().Add(a.grace)
	if err := a.db.RotateEndpointSecret(ctx, id, secret, until); err != nil {
		return "", time.Time{}, err
	}
	a.record(ctx, "", "rotated the secret of endpoint", id, "")
	a.changed(TopicEndpoints)
	return receiverKey, until, nil
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

// AddTemporaryEndpoint adds the endpoint of a receiver that lives only as
// long as its caller ("smista listen --register"): signed with secret, or
// with a key generated for scheme when secret is "" (a given secret
// carries its own scheme). It returns the endpoint and the function that
// removes it, its waiting deliveries canceled, even after ctx ended
// (within 10 s); that function returns how many it canceled. It fails as
// AddSignedEndpoint does.
func (a *App) AddTemporaryEndpoint(ctx context.Context, url, secret, scheme string) (NewEndpoint, func() (int, error), error) {
	if secret != "" {
		scheme = ""
	}
	ep, err := a.AddSignedEndpoint(ctx, url, secret, scheme)
	if err != nil {
		return NewEndpoint{}, nil, err
	}
	remove := func() (int, error) {
		// Removed even after Ctrl-C: the endpoint lives only as long as
		// its receiver.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		return a.RemoveEndpoint(rctx, ep.ID, true)
	}
	return ep, remove, nil
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

// SendTestEvent queues a test event for endpoint id (TestEndpoint) and
// makes one attempt of it at once (DeliverNow): "smista endpoints test",
// the endpoint step of "smista init" and the doctor's --send-test. It
// fails as those two do; a failed attempt is no error, its outcome says it.
func (a *App) SendTestEvent(ctx context.Context, id string) (Try, error) {
	dlv, err := a.TestEndpoint(ctx, id)
	if err != nil {
		return Try{}, err
	}
	o, err := a.DeliverNow(ctx, dlv)
	if err != nil {
		return Try{}, err
	}
	return Try{DeliveryID: dlv, Outcome: o}, nil
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
