package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"smista/db"
	"smista/ui/safe"
	"smista/webhook"
)

// fmtTime is a time as the JSON lines of the CLI write it: UTC, to the
// millisecond.
func fmtTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// jsonTime is fmtTime, or null for the zero time.
func jsonTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return fmtTime(t)
}

// WriteAttempts writes attempts of the delivery log ("smista log
// --attempts"), as given: one JSON object per line (the contract's
// fields) or a readable block each. Every untrusted text is sanitised in
// the readable form. It returns the first write error of the JSON form.
func WriteAttempts(w io.Writer, rows []db.AttemptItem, asJSON bool) error {
	enc := json.NewEncoder(w)
	for _, l := range rows {
		if asJSON {
			if err := enc.Encode(struct {
				DeliveryID      string `json:"delivery_id"`
				Attempt         int    `json:"attempt"`
				StartedAt       string `json:"started_at"`
				DurationMS      int64  `json:"duration_ms"`
				StatusCode      int    `json:"status_code"`
				ErrorClass      string `json:"error_class"`
				ResponseSnippet string `json:"response_snippet"`
			}{l.DeliveryID, l.Attempt, fmtTime(l.StartedAt), l.Duration.Milliseconds(), l.StatusCode, l.ErrorClass, string(l.ResponseBody)}); err != nil {
				return err
			}
			continue
		}
		outcome := fmt.Sprintf("HTTP %d", l.StatusCode)
		if l.ErrorClass != "" {
			outcome = l.ErrorClass + ": " + l.Error
		}
		fmt.Fprintf(w, "%s  %s #%d  %s  %s  %s\n", l.StartedAt.Local().Format("2006-01-02 15:04:05"),
			l.DeliveryID, l.Attempt, l.WebhookID, FmtLatency(l.Duration), safe.String(outcome))
		fmt.Fprintf(w, "    signature: %s\n", safe.String(l.RequestHeaders.Get(webhook.HeaderSignature)))
		if len(l.ResponseBody) > 0 {
			fmt.Fprintf(w, "    response:  %s\n", safe.String(string(l.ResponseBody[:min(len(l.ResponseBody), 200)])))
		}
	}
	return nil
}

// WriteDeliveries writes deliveries of the delivery log ("smista log"), in
// the order given: one JSON object per line (the contract's fields) or
// one readable line each. It returns the first write error of the JSON
// form.
func WriteDeliveries(w io.Writer, rows []db.DeliveryItem, asJSON bool) error {
	enc := json.NewEncoder(w)
	for _, l := range rows {
		if asJSON {
			if err := enc.Encode(struct {
				DeliveryID     string `json:"delivery_id"`
				WebhookID      string `json:"webhook_id"`
				EndpointID     string `json:"endpoint_id"`
				URL            string `json:"url"`
				Event          string `json:"event"`
				EmailID        string `json:"email_id"`
				Test           bool   `json:"test"`
				Status         string `json:"status"`
				Attempts       int    `json:"attempts"`
				LastStatusCode int    `json:"last_status_code"`
				LastError      string `json:"last_error"`
				NextAttemptAt  any    `json:"next_attempt_at"`
				CreatedAt      string `json:"created_at"`
				UpdatedAt      string `json:"updated_at"`
			}{l.ID, l.WebhookID, l.EndpointID, l.URL, l.EventType, l.EmailID, l.Test, l.Status, l.Attempts,
				l.LastStatusCode, l.LastError, jsonTime(l.NextAttemptAt), fmtTime(l.CreatedAt), fmtTime(l.UpdatedAt)}); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintln(w, deliveryRowText(l))
	}
	return nil
}

// deliveryRowText is one delivery on one line: when, id, status, what went
// where, the attempts and the last answer; untrusted text sanitised.
func deliveryRowText(l db.DeliveryItem) string {
	what := l.EventType
	if l.Test {
		what += " (test)"
	}
	url := l.URL
	if url == "" {
		url = "(removed endpoint " + l.EndpointID + ")"
	}
	line := fmt.Sprintf("%s  %s  %-9s  %s → %s  attempts %d", l.CreatedAt.Local().Format("2006-01-02 15:04:05"),
		l.ID, l.Status, what, safe.String(url), l.Attempts)
	if l.LastStatusCode != 0 {
		line += fmt.Sprintf("  HTTP %d", l.LastStatusCode)
	}
	if l.LastError != "" && l.Status != webhook.StatusDelivered && l.LastError != fmt.Sprintf("HTTP %d", l.LastStatusCode) {
		line += "  " + safe.String(l.LastError)
	}
	if !l.NextAttemptAt.IsZero() {
		line += "  next " + l.NextAttemptAt.Local().Format("15:04:05")
	}
	return line
}
