package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"smista/ui/safe"
	"smista/webhook"
)

// WriteReceived writes one request a local receiver got ("smista listen")
// as a readable block; every value in it is untrusted and sanitised here.
func WriteReceived(w io.Writer, r webhook.Received) {
	ts := r.At.Format("15:04:05")
	if r.Problem != "" {
		fmt.Fprintf(w, "%s  REJECTED  %s  %s\n", ts, safe.String(r.WebhookID), r.Problem)
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
	if r.Status != http.StatusOK {
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
