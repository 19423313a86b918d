// Package webhook delivers the ticket.suggested event to customer endpoints:
// Standard Webhooks signing (v1 HMAC-SHA256 and v1a Ed25519), a signature
// doctor that says why a request does not verify, the endpoint URL guard,
// the background sender over the SQLite outbox (per-queue FIFO, retries,
// auto-disable with warnings, offline detection, group-commit attempt log)
// and a local receiver that verifies, prints and forwards deliveries.
//
// The package does not know what a ticket is: it moves signed JSON bodies.
package webhook

import (
	"bytes"
	"crypto/ed25519"
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

// Key prefixes of Standard Webhooks: an HMAC secret (scheme v1), an
// Ed25519 secret key and its public key (scheme v1a).
const (
	SecretPrefix     = "whsec_"
	SecretKeyPrefix  = "whsk_"
	PublicKeyPrefix  = "whpk_"
	SchemeHMAC       = "v1"
	SchemeEd25519    = "v1a"
	ed25519Signature = "v1a,"
)

// DefaultTolerance is how far a webhook-timestamp may be from the
// receiver's clock before Verify rejects it (replay protection).
const DefaultTolerance = 5 * time.Minute

// Sentinel errors of secrets and verification.
var (
	ErrBadSecret        = errors.New("secret must be whsec_ followed by base64 of 24 to 64 random bytes, or an Ed25519 key whsk_/whpk_ followed by base64")
	ErrMissingHeaders   = errors.New("missing webhook-id, webhook-timestamp or webhook-signature header")
	ErrBadTimestamp     = errors.New("webhook-timestamp is not unix seconds")
	ErrStaleTimestamp   = errors.New("webhook-timestamp outside the tolerance (replayed or clock skew)")
	ErrNoValidSignature = errors.New("no signature matches the secret")
	ErrBadScheme        = errors.New("signing scheme must be v1 (HMAC-SHA256) or v1a (Ed25519)")
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

// GenerateKeyPair returns a new Ed25519 key pair for the v1a scheme: the
// secret key "whsk_" (base64 of the 64-byte private key, seed then public
// key) that signs, and the public key "whpk_" that a receiver verifies
// with. It fails only if the OS random source fails.
func GenerateKeyPair() (secret, public string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate key pair: %w", err)
	}
	return SecretKeyPrefix + base64.StdEncoding.EncodeToString(priv),
		PublicKeyPrefix + base64.StdEncoding.EncodeToString(pub), nil
}

// GenerateSigningKey returns a new signing secret for scheme ("" is v1)
// and what the receiver is given: the secret itself for v1, the public
// key for v1a. It fails with ErrBadScheme for another scheme.
func GenerateSigningKey(scheme string) (secret, receiverKey string, err error) {
	switch scheme {
	case "", SchemeHMAC:
		s, err := GenerateSecret()
		return s, s, err
	case SchemeEd25519:
		return GenerateKeyPair()
	}
	return "", "", ErrBadScheme
}

// ValidateSecret checks a signing secret's format; it returns ErrBadSecret
// unless it is "whsec_" followed by the base64 of 24 to 64 bytes (v1) or
// "whsk_" followed by the base64 of an Ed25519 private key or seed (v1a).
func ValidateSecret(secret string) error {
	k, err := parseKey(secret)
	if err == nil && k.hmac == nil && k.private == nil {
		return fmt.Errorf("a public key cannot sign: %w", ErrBadSecret)
	}
	return err
}

// ValidateKey checks a verification key: a signing secret (ValidateSecret)
// or an Ed25519 public key "whpk_"; it returns ErrBadSecret otherwise.
func ValidateKey(key string) error {
	_, err := parseKey(key)
	return err
}

// Scheme returns the signing scheme of a secret or key: "v1" or "v1a";
// "" for a malformed one.
func Scheme(secret string) string {
	k, err := parseKey(secret)
	switch {
	case err != nil:
		return ""
	case k.hmac != nil:
		return SchemeHMAC
	}
	return SchemeEd25519
}

// PublicKey returns what a receiver verifies a secret's signatures with:
// the "whpk_" public key of a "whsk_" secret key (or of a public key), the
// secret itself for a "whsec_" HMAC secret. It fails with ErrBadSecret.
func PublicKey(secret string) (string, error) {
	k, err := parseKey(secret)
	if err != nil {
		return "", err
	}
	if k.hmac != nil {
		return secret, nil
	}
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(k.public), nil
}

// key is a parsed secret or key: an HMAC key, or an Ed25519 public key
// with (to sign) its private key.
type key struct {
	hmac    []byte
	private ed25519.PrivateKey
	public  ed25519.PublicKey
}

// parseKey decodes a whsec_, whsk_ or whpk_ string; ErrBadSecret otherwise.
func parseKey(s string) (key, error) {
	if rest, ok := strings.CutPrefix(s, SecretPrefix); ok {
		b, err := base64.StdEncoding.DecodeString(rest)
		if err != nil || len(b) < 24 || len(b) > 64 {
			return key{}, ErrBadSecret
		}
		return key{hmac: b}, nil
	}
	if rest, ok := strings.CutPrefix(s, SecretKeyPrefix); ok {
		b, err := base64.StdEncoding.DecodeString(rest)
		var priv ed25519.PrivateKey
		switch {
		case err != nil:
			return key{}, ErrBadSecret
		case len(b) == ed25519.SeedSize:
			priv = ed25519.NewKeyFromSeed(b)
		case len(b) == ed25519.PrivateKeySize:
			// The public half must be the seed's: a mismatched one would
			// make signatures no receiver verifies.
			priv = ed25519.NewKeyFromSeed(b[:ed25519.SeedSize])
			if !bytes.Equal(priv[ed25519.SeedSize:], b[ed25519.SeedSize:]) {
				return key{}, ErrBadSecret
			}
		default:
			return key{}, ErrBadSecret
		}
		return key{private: priv, public: priv.Public().(ed25519.PublicKey)}, nil
	}
	if rest, ok := strings.CutPrefix(s, PublicKeyPrefix); ok {
		b, err := base64.StdEncoding.DecodeString(rest)
		if err != nil || len(b) != ed25519.PublicKeySize {
			return key{}, ErrBadSecret
		}
		return key{public: b}, nil
	}
	return key{}, ErrBadSecret
}

// secretKey returns the HMAC key of a whsec_ secret.
func secretKey(secret string) ([]byte, error) {
	k, err := parseKey(secret)
	if err != nil {
		return nil, err
	}
	if k.hmac == nil {
		return nil, ErrBadSecret
	}
	return k.hmac, nil
}

// Sign returns the signature of body for the given webhook-id and
// timestamp: "v1,<base64 HMAC-SHA256>" for a whsec_ secret,
// "v1a,<base64 Ed25519>" for a whsk_ secret key. It fails with
// ErrBadSecret on a malformed secret or a public key.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	k, err := parseKey(secret)
	if err != nil {
		return "", err
	}
	switch {
	case k.hmac != nil:
		return "v1," + base64.StdEncoding.EncodeToString(mac(k.hmac, id, ts.Unix(), body)), nil
	case k.private != nil:
		return ed25519Signature + base64.StdEncoding.EncodeToString(ed25519.Sign(k.private, signedContent(nil, id, ts.Unix(), body))), nil
	}
	return "", fmt.Errorf("a public key cannot sign: %w", ErrBadSecret)
}

// signedContent appends "id.ts.body", what every scheme signs, to dst.
func signedContent(dst []byte, id string, ts int64, body []byte) []byte {
	dst = append(append(dst, id...), '.')
	dst = append(strconv.AppendInt(dst, ts, 10), '.')
	return append(dst, body...)
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

// signingKey is a parsed signing secret: a pool of keyed HMAC states
// (v1), or an Ed25519 private key (v1a).
type signingKey struct {
	pool *sync.Pool
	ed   ed25519.PrivateKey
}

// signer signs attempts with keys kept per secret: the key is decoded
// (and the HMAC pads computed) once per secret, not per attempt. The zero
// value is ready; it is safe for concurrent use.
type signer struct {
	mu   sync.Mutex
	keys map[string]signingKey
}

// maxSignerKeys bounds the secrets a signer keeps; past it the cache
// starts over (endpoints and rotations are few).
const maxSignerKeys = 1024

func (s *signer) key(secret string) (signingKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[secret]; ok {
		return k, nil
	}
	k, err := parseKey(secret)
	if err != nil {
		return signingKey{}, err
	}
	var sk signingKey
	switch {
	case k.hmac != nil:
		sk.pool = &sync.Pool{New: func() any { return &keyedMAC{h: hmac.New(sha256.New, k.hmac), buf: make([]byte, 0, 128)} }}
	case k.private != nil:
		sk.ed = k.private
	default:
		return signingKey{}, ErrBadSecret
	}
	if s.keys == nil || len(s.keys) >= maxSignerKeys {
		s.keys = map[string]signingKey{}
	}
	s.keys[secret] = sk
	return sk, nil
}

// signedHeaders is SignedHeaders for the current secret and, when prev is
// not "", the previous one, with the cached keys.
func (s *signer) signedHeaders(secret, prev string, id string, ts time.Time, body []byte, userAgent string) (http.Header, error) {
	// "v1a," and the base64 of an Ed25519 signature: 92 bytes, the
	// longest signature; two of them and a space.
	var out [2*93 - 1]byte
	sig := out[:0]
	for i, sec := range [2]string{secret, prev} {
		if sec == "" {
			continue
		}
		k, err := s.key(sec)
		if err != nil {
			return nil, fmt.Errorf("sign: %w", err)
		}
		if i > 0 && len(sig) > 0 {
			sig = append(sig, ' ')
		}
		if k.ed != nil {
			sig = append(sig, ed25519Signature...)
			sig = base64.StdEncoding.AppendEncode(sig, ed25519.Sign(k.ed, signedContent(nil, id, ts.Unix(), body)))
			continue
		}
		m := k.pool.Get().(*keyedMAC)
		m.buf = sum(m.h, m.buf, id, ts.Unix(), body)
		sig = append(sig, "v1,"...)
		sig = base64.StdEncoding.AppendEncode(sig, m.buf)
		k.pool.Put(m)
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

// Verify checks a delivery against a key: the headers must be present,
// the timestamp within tolerance of now (0 means DefaultTolerance) and one
// of the signatures must match — a "v1," one for a whsec_ secret, a "v1a,"
// one for a whpk_ public key or a whsk_ secret key. It returns
// ErrMissingHeaders, ErrBadTimestamp, ErrStaleTimestamp,
// ErrNoValidSignature or ErrBadSecret.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	k, err := parseKey(secret)
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
	if !k.matches(sigs, id, ts, body) {
		return ErrNoValidSignature
	}
	return nil
}

// matches reports whether one of the space-separated signatures sigs is
// k's signature of id.ts.body.
func (k key) matches(sigs, id string, ts int64, body []byte) bool {
	var want, content []byte
	for _, s := range strings.Fields(sigs) {
		v, b64, ok := strings.Cut(s, ",")
		if !ok {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		switch {
		case v == SchemeHMAC && k.hmac != nil:
			if want == nil {
				want = mac(k.hmac, id, ts, body)
			}
			if hmac.Equal(got, want) {
				return true
			}
		case v == SchemeEd25519 && k.public != nil:
			if content == nil {
				content = signedContent(nil, id, ts, body)
			}
			if len(got) == ed25519.SignatureSize && ed25519.Verify(k.public, content, got) {
				return true
			}
		}
	}
	return false
}
