package webhook_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"smista/webhook"
)

// TestDoctorVerdicts runs the signature doctor on one captured request per
// failure kind and compares what it says with testdata/TestDoctorVerdicts
// (regenerate with -update).
func TestDoctorVerdicts(t *testing.T) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	prev := "whsec_" + base64.StdEncoding.EncodeToString([]byte("previous-secret-previous-secret!"))
	password := "correct horse battery staple 12"
	rawSecret := "whsec_" + base64.StdEncoding.EncodeToString([]byte(password))
	sk, _, err := webhook.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1767225600, 0) // 2026-01-01T00:00:00Z
	body := []byte(`{"event":"ticket.suggested","email_id":"abc","subject":"Non funziona il login"}`)
	capture := func(secrets []string, b []byte, rename map[string]string) webhook.Capture {
		h, err := webhook.SignedHeaders(secrets, "msg_doctor", t0, body, "smista/test")
		if err != nil {
			t.Fatal(err)
		}
		h.Del("User-Agent")
		for from, to := range rename {
			if v := h.Get(from); v != "" {
				h.Del(from)
				if to != "" {
					h[to] = []string{v}
				}
			}
		}
		return webhook.Capture{Header: h, Body: b}
	}
	var pretty bytes.Buffer
	json.Indent(&pretty, body, "", "  ")
	known := &webhook.Known{Body: body, Secrets: []string{secret, prev}}
	tests := map[string]struct {
		c     webhook.Capture
		keys  []string
		known *webhook.Known
		now   time.Time
		ok    bool
	}{
		"ok":                 {c: capture([]string{secret}, body, nil), keys: []string{secret}, now: t0.Add(10 * time.Second), ok: true},
		"ok_second_key":      {c: capture([]string{secret}, body, nil), keys: []string{prev, secret}, now: t0, ok: true},
		"clock_skew":         {c: capture([]string{secret}, body, nil), keys: []string{secret}, now: t0.Add(time.Hour)},
		"body_altered_store": {c: capture([]string{secret}, bytes.Replace(body, []byte("login"), []byte("logon"), 1), nil), keys: []string{secret}, known: known, now: t0},
		"body_newline":       {c: capture([]string{secret}, append(append([]byte{}, body...), '\n'), nil), keys: []string{secret}, now: t0},
		"body_reserialised":  {c: capture([]string{secret}, pretty.Bytes(), nil), keys: []string{secret}, now: t0},
		"previous_secret":    {c: capture([]string{prev}, body, nil), keys: []string{secret}, known: known, now: t0},
		"receiver_has_prev":  {c: capture([]string{secret}, body, nil), keys: []string{prev}, known: known, now: t0},
		"no_prefix":          {c: capture([]string{secret}, body, nil), keys: []string{strings.TrimPrefix(secret, "whsec_")}, now: t0},
		"raw_bytes":          {c: capture([]string{rawSecret}, body, nil), keys: []string{password}, now: t0},
		"header_names": {c: capture([]string{secret}, body, map[string]string{
			"Webhook-Id": "X-Webhook-Id", "Webhook-Timestamp": "X-Webhook-Timestamp", "Webhook-Signature": "X-Webhook-Signature"}),
			keys: []string{secret}, now: t0},
		"missing_signature": {c: capture([]string{secret}, body, map[string]string{"Webhook-Signature": ""}), keys: []string{secret}, now: t0},
		"scheme_mismatch":   {c: capture([]string{sk}, body, nil), keys: []string{secret}, now: t0},
		"wrong_secret":      {c: capture([]string{prev}, body, nil), keys: []string{secret}, now: t0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := webhook.Diagnose(tc.c, tc.keys, tc.known, tc.now, 0)
			if d.OK != tc.ok {
				t.Errorf("OK = %v, want %v: %s", d.OK, tc.ok, d.Verdict)
			}
			golden.RequireEqual(t, []byte(d.String()))
		})
	}
}

// TestParseCapture reads a request as a receiver logs it, with its
// request line and CRLF line ends, keeping the body byte for byte.
func TestParseCapture(t *testing.T) {
	raw := "POST /hook HTTP/1.1\r\nHost: x\r\nwebhook-id: msg_1\r\nContent-Length: 7\r\n\r\n{\"a\":1}trailing"
	c, err := webhook.ParseCapture(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Body) != `{"a":1}` || c.Header["webhook-id"][0] != "msg_1" {
		t.Errorf("capture %+v", c)
	}
	if _, err := webhook.ParseCapture(strings.NewReader("")); err == nil {
		t.Error("an empty capture parsed")
	}
}
