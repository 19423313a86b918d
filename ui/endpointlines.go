package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"smista/app"
	"smista/db"
	"smista/ui/safe"
	"smista/webhook"
)

// WriteEndpoints writes the endpoints ("smista endpoints list"): one JSON
// object per line (the contract's fields) or one readable line each, URL
// and reason sanitised. It returns the first write error of the JSON form.
func WriteEndpoints(w io.Writer, eps []db.Endpoint, asJSON bool) error {
	enc := json.NewEncoder(w)
	for _, e := range eps {
		if asJSON {
			if err := enc.Encode(struct {
				ID             string `json:"id"`
				URL            string `json:"url"`
				Enabled        bool   `json:"enabled"`
				DisabledReason string `json:"disabled_reason"`
				CreatedAt      string `json:"created_at"`
				Scheme         string `json:"scheme"`
				PublicKey      string `json:"public_key"`
			}{e.ID, e.URL, e.Enabled, e.DisabledReason, fmtTime(e.CreatedAt), e.Scheme, e.PublicKey}); err != nil {
				return err
			}
			continue
		}
		state := "enabled"
		if !e.Enabled {
			state = "DISABLED: " + e.DisabledReason
		}
		extra := ""
		if !e.RotatingUntil.IsZero() {
			extra = "  (old secret also signs until " + fmtTime(e.RotatingUntil) + ")"
		}
		if e.PublicKey != "" {
			extra += "  v1a " + e.PublicKey
		}
		fmt.Fprintf(w, "%s  %s  %s%s\n", e.ID, safe.String(e.URL), safe.String(state), extra)
	}
	return nil
}

// WriteEndpointAdded writes what "smista endpoints add" made: the id on
// stdout, then the key the receiver needs (a v1a public key, or a
// generated secret) with what to do with it on stderr, and a hint when
// undelivered tickets wait for a backfill.
func WriteEndpointAdded(stdout, stderr io.Writer, ep app.NewEndpoint, undelivered int) {
	fmt.Fprintln(stdout, ep.ID)
	switch {
	case ep.Scheme == webhook.SchemeEd25519:
		fmt.Fprintln(stdout, ep.ReceiverKey)
		fmt.Fprintln(stderr, "the second line is the Ed25519 public key (v1a): give it to the receiver; it cannot sign, so a leaked receiver config cannot forge events ('smista endpoints list' shows it again)")
	case ep.Generated:
		fmt.Fprintln(stdout, ep.Secret)
		fmt.Fprintln(stderr, "the second line is the signing secret: give it to the receiver; it is not shown again (rotate with 'smista endpoints rotate')")
	}
	if undelivered > 0 {
		fmt.Fprintf(stderr, "%d ticket(s) have no delivery (decided while no endpoint existed): 'smista endpoints backfill' queues them\n", undelivered)
	}
}

// WriteRotated writes a rotated endpoint's new key on stdout and, on
// stderr, what it is and until when the old one keeps signing.
func WriteRotated(stdout, stderr io.Writer, key string, until time.Time) {
	fmt.Fprintf(stdout, "%s\n", key)
	what := "new secret above"
	if strings.HasPrefix(key, webhook.PublicKeyPrefix) {
		what = "new public key above (give it to the receiver; the secret key stays here)"
	}
	fmt.Fprintf(stderr, "%s; the old key keeps signing too until %s\n", what, fmtTime(until))
}

// WriteEndpointChange writes the one line of an endpoints subcommand that
// changed deliveries: "enable" (n resumed), "disable" (n paused), "rm" (n
// canceled) or "backfill" (n tickets queued; id is unused).
func WriteEndpointChange(w io.Writer, sub, id string, n int) {
	switch sub {
	case "enable":
		fmt.Fprintf(w, "enabled %s; %d paused deliveries resume (run 'smista send' or the TUI)\n", id, n)
	case "disable":
		fmt.Fprintf(w, "disabled %s; %d deliveries paused until 'smista endpoints enable %s'\n", id, n, id)
	case "rm":
		fmt.Fprintf(w, "removed %s (%d undelivered canceled; its delivery log is kept)\n", id, n)
	case "backfill":
		fmt.Fprintf(w, "%d ticket(s) queued to the endpoints; 'smista send' or the TUI delivers them\n", n)
	}
}

// WriteTestEvent writes the outcome of a test event sent at once
// ("smista endpoints test", "smista init"): where it went, then the
// answer, or the failure and the start of the receiver's answer.
func WriteTestEvent(w io.Writer, try app.Try) {
	o, r := try.Outcome, try.Outcome.Result
	fmt.Fprintf(w, "test event %s (webhook-id %s) → %s\n", try.DeliveryID, o.Delivery.WebhookID, safe.String(o.Delivery.URL))
	if r.OK() {
		fmt.Fprintf(w, "delivered: HTTP %d in %s\n", r.StatusCode, FmtLatency(r.Duration))
		return
	}
	fmt.Fprintf(w, "failed (%s): %s\n", r.Class, safe.String(r.Err))
	if len(r.ResponseBody) > 0 {
		fmt.Fprintf(w, "response: %s\n", safe.String(string(r.ResponseBody[:min(len(r.ResponseBody), 300)])))
	}
}

// WriteReplayTo writes the outcome of "smista replay ID --to URL" on
// stdout, and on stderr which test delivery logged it.
func WriteReplayTo(stdout, stderr io.Writer, id string, try app.Try) {
	o := try.Outcome
	fmt.Fprintf(stdout, "%s (webhook-id %s) → %s: ", id, o.Delivery.WebhookID, safe.String(o.Delivery.URL))
	if o.Result.OK() {
		fmt.Fprintf(stdout, "HTTP %d in %s\n", o.Result.StatusCode, FmtLatency(o.Result.Duration))
	} else {
		fmt.Fprintf(stdout, "failed (%s): %s\n", o.Result.Class, safe.String(o.Result.Err))
	}
	fmt.Fprintf(stderr, "logged as test delivery %s; %s itself is untouched\n", try.DeliveryID, id)
}

// WriteReplayed writes the line of "smista replay": id, or with status
// every matching delivery (res), queued again; skipped ones on stderr.
func WriteReplayed(stdout, stderr io.Writer, id, status string, res db.ReplayResult) {
	if status == "" {
		fmt.Fprintf(stdout, "%s queued again (same webhook-id, fresh signature); 'smista send' or the TUI delivers it\n", id)
		return
	}
	fmt.Fprintf(stdout, "%d %s deliveries queued again (same webhook-ids, fresh signatures); 'smista send' or the TUI delivers them\n", res.Queued, status)
	if res.Skipped > 0 {
		fmt.Fprintf(stderr, "%d matching deliveries skipped: their endpoint is disabled (enable it first) or removed\n", res.Skipped)
	}
}
