package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"

	"smista/app"
	"smista/ui/safe"
	"smista/webhook"
)

// WriteReceived writes one request a local receiver got ("smista listen")
// as a readable block; every value in it is untrusted and sanitised here.
func WriteReceived(w io.Writer, r webhook.Received) {
	ts := r.At.Format("15:04:05")
	if r.Problem != "" {
		fmt.Fprintf(w, "%s  REJECTED  %s  %s\n", ts, safe.String(r.WebhookID), safe.String(r.Problem))
		return
	}
	var b strings.Builder
	var fields map[string]any
	event := "?"
	if json.Unmarshal(r.Body, &fields) == nil {
		if e, ok := fields["event"].(string); ok {
			event = e
		}
	}
	fmt.Fprintf(&b, "%s  %s  %s", ts, safe.String(event), safe.String(r.WebhookID))
	if r.Duplicate > 0 {
		fmt.Fprintf(&b, "  (duplicate #%d: deduplicate on webhook-id)", r.Duplicate)
	}
	switch {
	case r.Forwarded && r.ForwardStatus == 0:
		fmt.Fprintf(&b, "  → app unreachable: %s (answered %d)", safe.String(r.ForwardErr), r.Status)
	case r.Forwarded:
		fmt.Fprintf(&b, "  → app answered HTTP %d in %s", r.ForwardStatus, FmtLatency(r.ForwardDuration))
	case r.Status != http.StatusOK:
		fmt.Fprintf(&b, "  → answered %d on purpose", r.Status)
	}
	b.WriteString("\n")
	if fields == nil {
		fmt.Fprintf(&b, "    (body is not a JSON object: %s)\n", safe.String(string(r.Body[:min(len(r.Body), 200)])))
	} else {
		keys := make([]string, 0, len(fields))
		for k := range fields {
			if k != "event" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, _ := json.Marshal(fields[k])
			val := string(v)
			if s, ok := fields[k].(string); ok {
				val = s
			}
			fmt.Fprintf(&b, "    %-14s %s\n", safe.String(k), safe.String(val))
		}
	}
	io.WriteString(w, b.String())
}

// receivedJSON is one line of "smista listen --json"; its field names are
// part of the CLI contract.
type receivedJSON struct {
	ReceivedAt       string          `json:"received_at"`
	WebhookID        string          `json:"webhook_id"`
	WebhookTimestamp string          `json:"webhook_timestamp"`
	Event            string          `json:"event"`
	Valid            bool            `json:"valid"`
	Problem          string          `json:"problem"`
	Duplicate        int             `json:"duplicate"`
	Status           int             `json:"status"`
	Forwarded        bool            `json:"forwarded"`
	ForwardStatus    int             `json:"forward_status"`
	ForwardMS        int64           `json:"forward_ms"`
	ForwardError     string          `json:"forward_error"`
	Payload          json.RawMessage `json:"payload"`
}

// WriteReceivedJSON writes one request a local receiver got as one JSON
// line: the payload as the JSON object it is (a string when the body is
// not JSON), the verification, and the forward's outcome. Text fields
// carry no control characters.
func WriteReceivedJSON(w io.Writer, r webhook.Received) {
	line := receivedJSON{
		ReceivedAt: fmtTime(r.At), WebhookID: safe.String(r.WebhookID),
		WebhookTimestamp: safe.String(r.Header.Get(webhook.HeaderTimestamp)),
		Valid:            r.Problem == "", Problem: safe.String(r.Problem), Duplicate: r.Duplicate, Status: r.Status,
		Forwarded: r.Forwarded, ForwardStatus: r.ForwardStatus, ForwardMS: r.ForwardDuration.Milliseconds(),
		ForwardError: safe.String(r.ForwardErr),
	}
	var fields struct {
		Event string `json:"event"`
	}
	if json.Valid(r.Body) {
		line.Payload = r.Body
		if json.Unmarshal(r.Body, &fields) == nil {
			line.Event = safe.String(fields.Event)
		}
	} else {
		line.Payload, _ = json.Marshal(string(r.Body))
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	w.Write(append(b, '\n'))
}

// WriteDiagnosis writes the signature doctor's answer ("smista verify"):
// the verdict, then its facts, every value sanitised.
func WriteDiagnosis(w io.Writer, d webhook.Diagnosis) {
	fmt.Fprintf(w, "verdict: %s\n", safe.String(d.Verdict))
	for _, l := range d.Details {
		fmt.Fprintf(w, "  %s\n", safe.String(l))
	}
}

// WriteListening writes the line "smista listen" starts with: where it
// listens, and where it forwards to.
func WriteListening(w io.Writer, addr net.Addr, forwardTo string) {
	what := "verifying signatures"
	if forwardTo != "" {
		what += ", forwarding to " + forwardTo
	}
	fmt.Fprintf(w, "listening on http://%s/ — %s; Ctrl-C to stop\n", addr, what)
}

// WriteGeneratedSecret writes the secret "smista listen" generated when
// given none, with the command that registers the receiver at addr.
func WriteGeneratedSecret(w io.Writer, secret string, addr net.Addr) {
	fmt.Fprintf(w, "no secret given: generated one; register this receiver with\n  echo %s | smista endpoints add http://%s/ --secret-file -\n(or run 'smista listen --register')\n", secret, addr)
}

// WriteRegistered writes the temporary endpoint "smista listen
// --register" added.
func WriteRegistered(w io.Writer, ep app.NewEndpoint) {
	fmt.Fprintf(w, "registered endpoint %s → %s (%s); it is removed when listen stops\n", ep.ID, ep.URL, ep.Scheme)
}

// WriteUnregistered writes the removal of the temporary endpoint id (n
// waiting deliveries canceled), or, when err says it failed, how to
// remove it by hand.
func WriteUnregistered(w io.Writer, id string, n int, err error) {
	if err != nil {
		fmt.Fprintf(w, "smista listen: could not remove endpoint %s: %v (run 'smista endpoints rm %s --force')\n", id, err, id)
		return
	}
	fmt.Fprintf(w, "removed endpoint %s (%d waiting deliveries canceled)\n", id, n)
}
