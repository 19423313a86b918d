package webhook

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrBadCapture is returned by ParseCapture for text that holds no
// request headers.
var ErrBadCapture = errors.New("not a captured request: want header lines, a blank line, then the body")

// Capture is a request as a receiver got it: its headers and exact body.
type Capture struct {
	Header http.Header
	Body   []byte
}

// ParseCapture reads a captured request: an optional request line ("POST
// /hook HTTP/1.1"), "Name: value" header lines, a blank line, and the
// body, byte for byte (a Content-Length header, when present, bounds it).
// It fails with ErrBadCapture when no header line is found.
func ParseCapture(r io.Reader) (Capture, error) {
	br := bufio.NewReader(io.LimitReader(r, 4*maxBody))
	tp := textproto.NewReader(br)
	first, err := tp.ReadLine()
	if err != nil {
		return Capture{}, fmt.Errorf("capture: %w", ErrBadCapture)
	}
	h := http.Header{}
	line := first
	if strings.Contains(first, " HTTP/") || !strings.Contains(first, ":") {
		if line, err = tp.ReadLine(); err != nil {
			return Capture{}, fmt.Errorf("capture: %w", ErrBadCapture)
		}
	}
	for ; line != ""; line, err = tp.ReadLine() {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return Capture{}, fmt.Errorf("capture: header line %q: %w", oneLine(line, 60), ErrBadCapture)
		}
		// Names are kept as written: a doctor reports a wrong one.
		h[strings.TrimSpace(k)] = append(h[strings.TrimSpace(k)], strings.TrimSpace(v))
		if err != nil {
			break
		}
	}
	if len(h) == 0 {
		return Capture{}, fmt.Errorf("capture: %w", ErrBadCapture)
	}
	body, _ := io.ReadAll(br)
	if n, err := strconv.Atoi(headerValue(h, "content-length")); err == nil && n >= 0 && n < len(body) {
		body = body[:n]
	}
	return Capture{Header: h, Body: body}, nil
}

// WebhookID returns the captured request's webhook-id header, in any
// case; "" when it has none.
func (c Capture) WebhookID() string { return headerValue(c.Header, HeaderID) }

// headerValue returns the first value of the header named name in any
// case.
func headerValue(h http.Header, name string) string {
	for k, vs := range h {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

// Known is what smista's store knows of a captured webhook-id: the body
// it sent and the endpoint's secrets, current first, then the previous
// one during or after a rotation.
type Known struct {
	Body    []byte
	Secrets []string
}

// Diagnosis is the doctor's answer: OK when the request verifies with one
// of the keys, a one-line Verdict, and the facts behind it.
type Diagnosis struct {
	OK      bool
	Verdict string
	Details []string
}

// String renders the diagnosis as "verdict: ..." and indented details.
func (d Diagnosis) String() string {
	var b strings.Builder
	b.WriteString("verdict: " + d.Verdict + "\n")
	for _, l := range d.Details {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// doctor is one run of Diagnose.
type doctor struct {
	c       Capture
	now     time.Time
	tol     time.Duration
	known   *Known
	details []string
	renamed []string // "name → webhook-x" for headers under a wrong name
}

func (dr *doctor) note(format string, args ...any) {
	dr.details = append(dr.details, fmt.Sprintf(format, args...))
}

// Diagnose says exactly why a captured request does or does not verify
// with keys (the receiver's: whsec_ secrets, whpk_ public keys or whsk_
// secret keys, in the receiver's order): header names wrong, a timestamp
// not in seconds, a key without whsec_ or given as raw bytes, the body
// altered (the first differing byte), signed with the previous secret,
// the wrong scheme for the key, a wrong key, or clock skew of N seconds
// against now. known, when the store has the webhook-id, gives the body
// sent and the endpoint's secrets. tolerance 0 means DefaultTolerance.
func Diagnose(c Capture, keys []string, known *Known, now time.Time, tolerance time.Duration) Diagnosis {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	dr := &doctor{c: c, now: now, tol: tolerance, known: known}
	id, tsText, sigs, missing := dr.headers()
	if len(missing) > 0 {
		return dr.verdict(false, "missing header "+strings.Join(missing, ", ")+
			" (a proxy or framework dropped it, or the request is not from smista)")
	}
	ts, err := strconv.ParseInt(strings.TrimSpace(tsText), 10, 64)
	if err != nil {
		return dr.verdict(false, fmt.Sprintf("webhook-timestamp %q is not unix seconds", oneLine(tsText, 40)))
	}
	if ts > 1e11 {
		dr.note("webhook-timestamp %d looks like milliseconds: the signature covers the header's exact text", ts)
	}
	dr.note("webhook-id %s, webhook-timestamp %d (%s)", oneLine(id, 80), ts, time.Unix(ts, 0).UTC().Format(time.RFC3339))
	dr.note("signatures: %s", describeSigs(sigs))
	parsed, repairs := dr.keys(keys)
	if len(parsed) == 0 {
		return dr.verdict(false, "no usable key: give the endpoint's whsec_ secret (v1) or its whpk_ public key (v1a)")
	}
	match := -1
	for i, k := range parsed {
		if k.matches(sigs, id, ts, c.Body) {
			match = i
			break
		}
	}
	if match >= 0 {
		skew := now.Unix() - ts
		switch {
		case repairs[match] != "":
			return dr.verdict(false, repairs[match])
		case len(dr.renamed) > 0:
			return dr.verdict(false, "header names wrong: "+strings.Join(dr.renamed, ", ")+" (the signature verifies once renamed)")
		case skew > int64(tolerance/time.Second) || -skew > int64(tolerance/time.Second):
			return dr.verdict(false, fmt.Sprintf("clock skew of %d seconds: the signature is valid, but webhook-timestamp is %s the receiver's clock by more than %s (check NTP on both machines; a request replayed from a log is old by design)",
				abs(skew), aheadBehind(skew), fmtDuration(tolerance)))
		case match > 0:
			return dr.verdict(true, fmt.Sprintf("verifies with key %d of %d (the others do not match: fine during a rotation)", match+1, len(parsed)))
		}
		return dr.verdict(true, "verifies: signature, webhook-id and timestamp are as signed")
	}
	if v, ok := dr.bodyAltered(parsed, sigs, id, ts); ok {
		return dr.verdict(false, v)
	}
	if v, ok := dr.storeSecrets(parsed, sigs, id, ts); ok {
		return dr.verdict(false, v)
	}
	if v, ok := schemeMismatch(parsed, sigs); ok {
		return dr.verdict(false, v)
	}
	return dr.verdict(false, "signature does not match: the key is not the one that signed (wrong endpoint or secret?), or webhook-id or webhook-timestamp changed in transit")
}

func (dr *doctor) verdict(ok bool, v string) Diagnosis {
	if len(dr.renamed) > 0 && !strings.HasPrefix(v, "header names wrong") {
		dr.note("header names wrong: %s", strings.Join(dr.renamed, ", "))
	}
	return Diagnosis{OK: ok, Verdict: v, Details: dr.details}
}

// headers finds the three headers, under their names or a near miss
// (x-webhook-signature, webhook_signature, svix-signature...), which it
// records in renamed.
func (dr *doctor) headers() (id, ts, sigs string, missing []string) {
	vals := map[string]string{}
	for _, want := range []string{HeaderID, HeaderTimestamp, HeaderSignature} {
		if v := headerValue(dr.c.Header, want); v != "" {
			vals[want] = v
			continue
		}
		suffix := strings.TrimPrefix(want, "webhook-")
		for k, vs := range dr.c.Header {
			n := strings.ReplaceAll(strings.ToLower(k), "_", "-")
			if (strings.HasSuffix(n, "-"+suffix) || n == "webhook"+suffix) && len(vs) > 0 {
				vals[want] = vs[0]
				dr.renamed = append(dr.renamed, k+" → "+want)
				break
			}
		}
		if vals[want] == "" {
			missing = append(missing, want)
		}
	}
	return vals[HeaderID], vals[HeaderTimestamp], vals[HeaderSignature], missing
}

// keys parses the receiver's keys, repairing the usual mistakes: a secret
// without whsec_, or the raw key bytes. repairs[i] says what was wrong
// with key i ("" when nothing).
func (dr *doctor) keys(keys []string) ([]key, []string) {
	var out []key
	var repairs []string
	for i, s := range keys {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if k, err := parseKey(s); err == nil {
			out, repairs = append(out, k), append(repairs, "")
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) >= 24 && len(b) <= 64 {
			out = append(out, key{hmac: b})
			repairs = append(repairs, fmt.Sprintf("secret given without whsec_: key %d is the base64 part alone; it verifies as whsec_%s (libraries strip the prefix, then base64-decode the rest)", i+1, mask(s)))
			continue
		}
		if len(s) >= 24 && len(s) <= 64 {
			out = append(out, key{hmac: []byte(s)})
			repairs = append(repairs, fmt.Sprintf("secret given as raw bytes: key %d is the decoded key itself; a receiver wants whsec_ followed by its base64", i+1))
			continue
		}
		dr.note("key %d is neither a whsec_, whsk_ or whpk_ key nor a raw secret: ignored", i+1)
	}
	return out, repairs
}

// bodyAltered compares the body with the one sent (known) or, without
// it, with the usual alterations undone, and says where they differ.
func (dr *doctor) bodyAltered(keys []key, sigs, id string, ts int64) (string, bool) {
	var sent []byte
	how := ""
	if dr.known != nil && dr.known.Body != nil && !bytes.Equal(dr.known.Body, dr.c.Body) {
		sent, how = dr.known.Body, "the body smista sent differs from the one received"
	} else {
		for _, u := range undo(dr.c.Body) {
			for _, k := range keys {
				if k.matches(sigs, id, ts, u.body) {
					sent, how = u.body, u.what
				}
			}
			if sent != nil {
				break
			}
		}
	}
	if sent == nil {
		return "", false
	}
	off := firstDiff(sent, dr.c.Body)
	line, col := lineCol(sent, off)
	return fmt.Sprintf("body altered: %s; first differing byte at offset %d (line %d, column %d): sent %s, received %s — verify the raw bytes before any JSON parsing",
		how, off, line, col, byteAt(sent, off), byteAt(dr.c.Body, off)), true
}

// alteration is a body with a usual change undone.
type alteration struct {
	what string
	body []byte
}

// undo returns the body with the alterations that frameworks and editors
// make undone: a newline added or removed at the end, CRLF line ends,
// JSON re-serialised (compact).
func undo(b []byte) []alteration {
	var out []alteration
	if t := bytes.TrimRight(b, "\r\n"); len(t) < len(b) {
		out = append(out, alteration{"a line end was added at the end", t})
	}
	out = append(out, alteration{"the final line end was removed", append(append([]byte{}, b...), '\n')})
	if bytes.Contains(b, []byte("\r\n")) {
		out = append(out, alteration{"line ends became CRLF", bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))})
	}
	var c bytes.Buffer
	if json.Compact(&c, b) == nil && !bytes.Equal(c.Bytes(), b) {
		out = append(out, alteration{"the JSON was re-serialised (spaces)", c.Bytes()})
	}
	return out
}

// storeSecrets checks the signatures against the endpoint's own secrets
// from the store: signed with the previous one, or with a current one
// the receiver does not have.
func (dr *doctor) storeSecrets(keys []key, sigs, id string, ts int64) (string, bool) {
	if dr.known == nil {
		return "", false
	}
	for i, s := range dr.known.Secrets {
		k, err := parseKey(s)
		if err != nil || !k.matches(sigs, id, ts, dr.c.Body) {
			continue
		}
		if i > 0 {
			return "signed with the previous secret: this request carries only the signature of the endpoint's rotated-out secret (sent before the rotation, or during its grace period to a receiver given the new one); a receiver should accept both during the grace period", true
		}
		for j := 1; j < len(dr.known.Secrets); j++ {
			if pk, err := parseKey(dr.known.Secrets[j]); err == nil && sameKey(pk, keys) {
				return "your key is the endpoint's previous secret: it was rotated; give the receiver the current one", true
			}
		}
		return "your key is not this endpoint's: the endpoint's current secret verifies the request (smista endpoints list shows which endpoint; rotate to get a secret you can copy)", true
	}
	return "", false
}

// sameKey reports whether k is among keys.
func sameKey(k key, keys []key) bool {
	for _, o := range keys {
		if bytes.Equal(o.hmac, k.hmac) && bytes.Equal(o.public, k.public) {
			return true
		}
	}
	return false
}

// schemeMismatch says when the keys and the signatures are of different
// schemes: an HMAC secret for v1a signatures, or the reverse.
func schemeMismatch(keys []key, sigs string) (string, bool) {
	hasV1, hasV1a := false, false
	for _, s := range strings.Fields(sigs) {
		v, _, _ := strings.Cut(s, ",")
		hasV1, hasV1a = hasV1 || v == SchemeHMAC, hasV1a || v == SchemeEd25519
	}
	hmacKey, edKey := false, false
	for _, k := range keys {
		hmacKey, edKey = hmacKey || k.hmac != nil, edKey || k.public != nil
	}
	switch {
	case hasV1a && !hasV1 && !edKey:
		return "the endpoint signs with Ed25519 (v1a) and your key is an HMAC secret: verify with its whpk_ public key (smista endpoints list)", true
	case hasV1 && !hasV1a && !hmacKey:
		return "the endpoint signs with HMAC (v1) and your key is an Ed25519 key: verify with its whsec_ secret", true
	}
	return "", false
}

func describeSigs(sigs string) string {
	var parts []string
	for _, s := range strings.Fields(sigs) {
		v, b64, ok := strings.Cut(s, ",")
		if !ok {
			parts = append(parts, fmt.Sprintf("%q (no version: want v1,… or v1a,…)", oneLine(s, 20)))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s (%d characters)", v, len(b64)))
	}
	return strings.Join(parts, ", ")
}

func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func lineCol(b []byte, off int) (int, int) {
	line, col := 1, 1
	for _, c := range b[:min(off, len(b))] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// byteAt describes the byte at off: quoted when printable, hex otherwise,
// "the end" past it.
func byteAt(b []byte, off int) string {
	if off >= len(b) {
		return "the end"
	}
	if r, _ := utf8.DecodeRune(b[off:]); r >= 0x20 && r < 0x7f {
		return fmt.Sprintf("%q", r)
	}
	return fmt.Sprintf("0x%02x", b[off])
}

// mask shows the first 4 characters of a secret.
func mask(s string) string { return s[:min(4, len(s))] + "…" }

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func aheadBehind(skew int64) string {
	if skew > 0 {
		return "behind"
	}
	return "ahead of"
}
