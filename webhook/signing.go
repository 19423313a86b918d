// Package webhook delivers the ticket.suggested event to customer endpoints:
// Standard Webhooks signing, the endpoint URL guard, the background sender
// over the SQLite outbox (per-queue FIFO, retries, auto-disable, group-commit
// attempt log) and a local receiver that verifies and prints deliveries.
//
// The package does not know what a ticket is: it moves signed JSON bodies.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Header names of the Standard Webhooks specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every endpoint secret.
const SecretPrefix = "whsec_"

// DefaultTolerance is how far a webhook-timestamp may be from the
// receiver's clock before Verify rejects it (replay protection).
const DefaultTolerance = 5 * time.Minute

// Sentinel errors of secrets and verification.
var (
	ErrBadSecret        = errors.New("secret must be whsec_ followed by base64 of 24 to 64 random bytes")
	ErrMissingHeaders   = errors.New("missing webhook-id, webhook-timestamp or webhook-signature header")
	ErrBadTimestamp     = errors.New("webhook-timestamp is not unix seconds")
	ErrStaleTimestamp   = errors.New("webhook-timestamp outside the tolerance (replayed or clock skew)")
	ErrNoValidSignature = errors.New("no signature matches the secret")
)

// GenerateSecret returns a new endpoint secret: "whsec_" and the base64 of
// 32 random bytes. It fails only if the OS random source fails.
func GenerateSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b[:]), nil
}

// ValidateSecret checks a secret's format; it returns ErrBadSecret when it
// is not "whsec_" followed by the base64 of 24 to 64 bytes.
func ValidateSecret(secret string) error {
	_, err := secretKey(secret)
	return err
}

// secretKey returns the HMAC key of a secret: the bytes after "whsec_".
func secretKey(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, ErrBadSecret
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(key) < 24 || len(key) > 64 {
		return nil, ErrBadSecret
	}
	return key, nil
}

// Sign returns the "v1,<base64 HMAC-SHA256>" signature of body for the
// given webhook-id and timestamp. It fails with ErrBadSecret on a malformed
// secret.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, ts.Unix(), body)), nil
}

func mac(key []byte, id string, ts int64, body []byte) []byte {
	return sum(hmac.New(sha256.New, key), nil, id, ts, body)
}

// sum returns the MAC of id.ts.body with the keyed hash h (reset first),
// using and returning scratch's storage (nil: allocated).
func sum(h hash.Hash, scratch []byte, id string, ts int64, body []byte) []byte {
	scratch = append(append(scratch[:0], id...), '.')
	scratch = append(strconv.AppendInt(scratch, ts, 10), '.')
	h.Reset()
	h.Write(scratch)
	h.Write(body)
	return h.Sum(scratch[:0])
}

// keyedMAC is a hash keyed with one secret and a scratch buffer, reused
// through a pool.
type keyedMAC struct {
	h   hash.Hash
	buf []byte
}

// signer signs attempts with keyed HMAC states kept per secret: the key is
// decoded and the HMAC pads computed once per secret, not per attempt.
// The zero value is ready; it is safe for concurrent use.
type signer struct {
	mu   sync.Mutex
	keys map[string]*sync.Pool // secret → pool of *keyedMAC keyed with it
}

// maxSignerKeys bounds the secrets a signer keeps; past it the cache
// starts over (endpoints and rotations are few).
const maxSignerKeys = 1024

func (s *signer) pool(secret string) (*sync.Pool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.keys[secret]; ok {
		return p, nil
	}
	key, err := secretKey(secret)
	if err != nil {
		return nil, err
	}
	if s.keys == nil || len(s.keys) >= maxSignerKeys {
		s.keys = map[string]*sync.Pool{}
	}
	p := &sync.Pool{New: func() any { return &keyedMAC{h: hmac.New(sha256.New, key), buf: make([]byte, 0, 128)} }}
	s.keys[secret] = p
	return p, nil
}

// signedHeaders is SignedHeaders for the current secret and, when prev is
// not "", the previous one, with the cached keys.
func (s *signer) signedHeaders(secret, prev string, id string, ts time.Time, body []byte, userAgent string) (http.Header, error) {
	// "v1," and the base64 of a SHA-256 MAC: 47 bytes a signature.
	var out [2*48 - 1]byte
	sig := out[:0]
	for i, sec := range [2]string{secret, prev} {
		if sec == "" {
			continue
		}
		p, err := s.pool(sec)
		if err != nil {
			return nil, fmt.Errorf("sign: %w", err)
		}
		k := p.Get().(*keyedMAC)
		k.buf = sum(k.h, k.buf, id, ts.Unix(), body)
		if i > 0 && len(sig) > 0 {
			sig = append(sig, ' ')
		}
		sig = append(sig, "v1,"...)
		sig = base64.StdEncoding.AppendEncode(sig, k.buf)
		p.Put(k)
	}
	if len(sig) == 0 {
		return nil, fmt.Errorf("sign: %w", ErrBadSecret)
	}
	return headers(id, ts, string(sig), userAgent), nil
}

// SignatureHeader returns the webhook-signature header value: one "v1,..."
// signature per secret, space separated, in the order given (the current
// secret first during a rotation grace period). Empty secrets are skipped.
func SignatureHeader(secrets []string, id string, ts time.Time, body []byte) (string, error) {
	var sigs []string
	for _, s := range secrets {
		if s == "" {
			continue
		}
		sig, err := Sign(s, id, ts, body)
		if err != nil {
			return "", fmt.Errorf("sign: %w", err)
		}
		sigs = append(sigs, sig)
	}
	if len(sigs) == 0 {
		return "", fmt.Errorf("sign: %w", ErrBadSecret)
	}
	return strings.Join(sigs, " "), nil
}

// SignedHeaders returns the headers of one delivery attempt: webhook-id,
// webhook-timestamp (ts, fresh per attempt), webhook-signature, the JSON
// content type and the user agent. It fails on a malformed secret.
func SignedHeaders(secrets []string, id string, ts time.Time, body []byte, userAgent string) (http.Header, error) {
	sig, err := SignatureHeader(secrets, id, ts, body)
	if err != nil {
		return nil, err
	}
	return headers(id, ts, sig, userAgent), nil
}

// headers builds the headers of an attempt with canonical keys written
// directly, the values sharing one array: this runs for every attempt.
func headers(id string, ts time.Time, sig, userAgent string) http.Header {
	v := [...]string{"application/json", userAgent, id, strconv.FormatInt(ts.Unix(), 10), sig}
	vals := v[:]
	return http.Header{
		"Content-Type":      vals[0:1:1],
		"User-Agent":        vals[1:2:2],
		"Webhook-Id":        vals[2:3:3],
		"Webhook-Timestamp": vals[3:4:4],
		"Webhook-Signature": vals[4:5:5],
	}
}

// Verify checks a delivery against secret: the headers must be present, the
// timestamp within tolerance of now (0 means DefaultTolerance) and one of
// the "v1," signatures must match. It returns ErrMissingHeaders,
// ErrBadTimestamp, ErrStaleTimestamp, ErrNoValidSignature or ErrBadSecret.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := secretKey(secret)
	if err != nil {
		return err
	}
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return ErrMissingHeaders
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrStaleTimestamp
	}
	want := mac(key, id, ts, body)
	for _, s := range strings.Fields(sigs) {
		v, b64, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrNoValidSignature
}
