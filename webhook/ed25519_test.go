package webhook_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"smista/webhook"
)

// TestEd25519KeyFromRFC8032 reads the secret key of RFC 8032's TEST 2 (a
// seed, and the seed with its public key) as whsk_ and derives the RFC's
// public key; a whsk_ whose public half is not its seed's is refused.
func TestEd25519KeyFromRFC8032(t *testing.T) {
	seed, _ := hex.DecodeString("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
	wantPub, _ := hex.DecodeString("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
	want := webhook.PublicKeyPrefix + base64.StdEncoding.EncodeToString(wantPub)
	full := append(append([]byte{}, seed...), wantPub...)
	for name, sk := range map[string][]byte{"seed": seed, "seed and public key": full} {
		secret := webhook.SecretKeyPrefix + base64.StdEncoding.EncodeToString(sk)
		pub, err := webhook.PublicKey(secret)
		if err != nil || pub != want {
			t.Errorf("%s: PublicKey = %q, %v; want %q", name, pub, err, want)
		}
		if err := webhook.ValidateSecret(secret); err != nil {
			t.Errorf("%s: a whsk_ secret key refused: %v", name, err)
		}
		if got := webhook.Scheme(secret); got != webhook.SchemeEd25519 {
			t.Errorf("%s: Scheme = %q", name, got)
		}
	}
	// RFC 8032 TEST 2 signs the one byte 0x72; our content is id.ts.body,
	// so the primitive is checked on the RFC's message directly.
	sig, _ := hex.DecodeString("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da" +
		"085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")
	if got := ed25519.Sign(ed25519.NewKeyFromSeed(seed), []byte{0x72}); !bytes.Equal(got, sig) {
		t.Fatalf("RFC 8032 TEST 2 signature differs")
	}
	bad := append(append([]byte{}, seed...), make([]byte, 32)...)
	if err := webhook.ValidateSecret(webhook.SecretKeyPrefix + base64.StdEncoding.EncodeToString(bad)); !errors.Is(err, webhook.ErrBadSecret) {
		t.Errorf("mismatched public half accepted: %v", err)
	}
	if err := webhook.ValidateSecret(want); !errors.Is(err, webhook.ErrBadSecret) {
		t.Errorf("a public key accepted as a signing secret: %v", err)
	}
	if err := webhook.ValidateKey(want); err != nil {
		t.Errorf("a public key refused as a verification key: %v", err)
	}
}

// TestV1aVerifiedByOpenSSL signs a delivery with a generated whsk_ key,
// during a rotation (two v1a signatures), and has OpenSSL's independent
// Ed25519 verify each signature of the header against "id.ts.body" with
// the whpk_ public key; a tampered body fails there too.
func TestV1aVerifiedByOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("openssl is needed to verify v1a independently")
		}
		t.Skip("no openssl")
	}
	cur, curPub, err := webhook.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	prev, prevPub, _ := webhook.GenerateKeyPair()
	now := time.Now()
	body := []byte(`{"event":"ticket.suggested","email_id":"abc","subject":"Non funziona il login"}`)
	h, err := webhook.SignedHeaders([]string{cur, prev}, "msg_v1a", now, body, "smista/test")
	if err != nil {
		t.Fatal(err)
	}
	sigs := strings.Fields(h.Get(webhook.HeaderSignature))
	if len(sigs) != 2 || !strings.HasPrefix(sigs[0], "v1a,") || !strings.HasPrefix(sigs[1], "v1a,") {
		t.Fatalf("signature header %q: want two v1a signatures", h.Get(webhook.HeaderSignature))
	}
	content := []byte("msg_v1a." + strconv.FormatInt(now.Unix(), 10) + "." + string(body))
	dir := t.TempDir()
	verify := func(pub, sig string, msg []byte) error {
		raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(pub, webhook.PublicKeyPrefix))
		// SubjectPublicKeyInfo of an Ed25519 key (RFC 8410): a fixed
		// 12-byte prefix, then the 32-byte key.
		der := append([]byte{0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00}, raw...)
		pem := "-----BEGIN PUBLIC KEY-----\n" + base64.StdEncoding.EncodeToString(der) + "\n-----END PUBLIC KEY-----\n"
		s, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(sig, "v1a,"))
		files := map[string][]byte{"pub.pem": []byte(pem), "msg": msg, "sig": s}
		for n, b := range files {
			if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
				return err
			}
		}
		out, err := exec.Command(openssl, "pkeyutl", "-verify", "-pubin", "-inkey", filepath.Join(dir, "pub.pem"),
			"-rawin", "-in", filepath.Join(dir, "msg"), "-sigfile", filepath.Join(dir, "sig")).CombinedOutput()
		if err != nil {
			return errors.New(strings.TrimSpace(string(out)))
		}
		return nil
	}
	for i, pub := range []string{curPub, prevPub} {
		if err := verify(pub, sigs[i], content); err != nil {
			t.Errorf("openssl rejects signature %d: %v", i, err)
		}
		if err := verify(pub, sigs[i], bytes.Replace(content, []byte("abc"), []byte("abd"), 1)); err == nil {
			t.Errorf("openssl accepts signature %d over a tampered body", i)
		}
		if err := webhook.Verify(pub, h, body, now, 0); err != nil {
			t.Errorf("Verify with public key %d: %v", i, err)
		}
	}
	if err := webhook.Verify(curPub, h, append(body, ' '), now, 0); !errors.Is(err, webhook.ErrNoValidSignature) {
		t.Errorf("Verify of a tampered body = %v", err)
	}
	other, _ := webhook.GenerateSecret()
	if err := webhook.Verify(other, h, body, now, 0); !errors.Is(err, webhook.ErrNoValidSignature) {
		t.Errorf("an HMAC secret verified a v1a-only header: %v", err)
	}
}

// TestMixedRotation moves an endpoint from v1 to v1a without downtime:
// during the grace period the header carries both schemes, and a v1
// receiver (the standard-webhooks library) and a v1a one both verify.
func TestMixedRotation(t *testing.T) {
	hm, _ := webhook.GenerateSecret()
	sk, pk, _ := webhook.GenerateKeyPair()
	now := time.Now()
	body := []byte(`{"event":"ticket.suggested"}`)
	h, err := webhook.SignedHeaders([]string{sk, hm}, "msg_mix", now, body, "t")
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyIndependently(hm, body, h, nil); err != nil {
		t.Errorf("standard-webhooks library rejects the mixed header: %v", err)
	}
	if err := webhook.Verify(pk, h, body, now, 0); err != nil {
		t.Errorf("v1a verify: %v", err)
	}
}
