package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"smista/db"
	"smista/webhook"
)

// ErrNoSecret is returned by ReplayTo when the delivery's endpoint was
// removed and no secret was given to sign with.
var ErrNoSecret = errors.New("its endpoint was removed: give a secret to sign with")

// Try is one attempt made at once (ReplayTo, SendTestEvent): the logged
// test delivery and the attempt's outcome.
type Try struct {
	DeliveryID string
	Outcome    webhook.Outcome
}

// ReplayTo sends the event of a logged delivery once to another URL (a
// developer's localhost), signed afresh — with secret when given (a
// whsec_ or whsk_ key), else with its endpoint's secrets — and with the
// same webhook-id. The original delivery, its attempts and its counters
// are not touched; the try is logged as a test delivery to url. It fails
// on a refused URL, a malformed secret, an unknown delivery (db.ErrNotFound)
// or a delivery that is no webhook.
func (a *App) ReplayTo(ctx context.Context, deliveryID, url, secret string) (Try, error) {
	u, err := a.sendOpts.Guard.CheckURL(ctx, nil, url)
	if err != nil {
		return Try{}, fmt.Errorf("replay to: %w", err)
	}
	d, err := a.db.Delivery(ctx, deliveryID, 0)
	if err != nil {
		return Try{}, fmt.Errorf("replay to: %w", err)
	}
	if d.Kind != webhook.KindWebhook || d.EventID == "" {
		return Try{}, fmt.Errorf("replay to: %s is a %s delivery, not a webhook", deliveryID, d.Kind)
	}
	switch {
	case secret != "":
		if err := webhook.ValidateSecret(secret); err != nil {
			return Try{}, fmt.Errorf("replay to: %w", err)
		}
		d.Secret, d.PrevSecret = secret, ""
	case d.Secret == "":
		return Try{}, fmt.Errorf("replay to %s: %w", deliveryID, ErrNoSecret)
	}
	d.URL = u
	opts := a.sendOpts
	tr := webhook.NewHTTPTransport(webhook.HTTPOptions{Guard: opts.Guard, Now: a.now, UserAgent: opts.UserAgent, Dial: opts.Dial})
	defer tr.Close()
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	res := tr.Deliver(actx, d)
	cancel()
	o := webhook.Outcome{Delivery: d, Result: res, Status: webhook.StatusDelivered, LastError: res.Err}
	if !res.OK() {
		o.Status = webhook.StatusDead
	}
	id, err := a.db.LogTry(context.WithoutCancel(ctx), deliveryID, u, o)
	a.changed(TopicDeliveries)
	if err != nil {
		return Try{Outcome: o}, fmt.Errorf("replay to: %w", err)
	}
	return Try{DeliveryID: id, Outcome: o}, nil
}

// defaultTimeout is DESIGN's attempt timeout, for a try outside a sender.
const defaultTimeout = 5 * time.Second

// ReplayMatching queues again every webhook delivery matching f — status
// dead, delivered or canceled, optionally one endpoint and a time window
// — with its webhook-id, and wakes the sender. It fails with
// db.ErrNotReplayable for another status.
func (a *App) ReplayMatching(ctx context.Context, f db.DeliveryFilter) (db.ReplayResult, error) {
	res, err := a.db.ReplayMatching(ctx, f)
	if err != nil {
		return res, err
	}
	if res.Queued > 0 {
		a.record(ctx, "", fmt.Sprintf("replayed %d %s deliveries", res.Queued, f.Status), f.EndpointID, "")
		a.wake()
		a.changed(TopicDeliveries | TopicEndpoints)
	}
	return res, nil
}

// Known returns what the store knows of a webhook-id for the signature
// doctor, or nil when no delivery has it.
func (a *App) Known(ctx context.Context, webhookID string) *webhook.Known {
	body, secrets, err := a.db.KnownWebhook(ctx, webhookID)
	if err != nil {
		return nil
	}
	return &webhook.Known{Body: body, Secrets: secrets}
}
