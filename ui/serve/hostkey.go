package serve

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"
)

// ErrHostKeyMode is returned when the host key file can be read by others
// than its owner: whoever reads it can pose as the server.
var ErrHostKeyMode = errors.New("host key is readable by group or others (chmod 600 it)")

// LoadHostKey reads the server's private key from path, generating an
// ed25519 key there first (mode 0600, in a 0700 directory) when the file
// does not exist. It returns the key in PEM and whether it was generated;
// it fails with ErrHostKeyMode on a key others can read.
func LoadHostKey(path string) ([]byte, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		b, err = generateHostKey(path)
		if err != nil {
			return nil, false, err
		}
		return b, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("host key: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, false, fmt.Errorf("host key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("host key %s (mode %04o): %w", path, fi.Mode().Perm(), ErrHostKeyMode)
	}
	if _, err := gossh.ParsePrivateKey(b); err != nil {
		return nil, false, fmt.Errorf("host key %s: %w", path, err)
	}
	return b, false, nil
}

func generateHostKey(path string) ([]byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate host key: %w", err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "smista serve")
	if err != nil {
		return nil, fmt.Errorf("generate host key: %w", err)
	}
	b := pem.EncodeToMemory(block)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("generate host key: %w", err)
	}
	// O_EXCL: two servers starting at once never overwrite each other's.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("generate host key: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, fmt.Errorf("generate host key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("generate host key: %w", err)
	}
	return b, nil
}

// Fingerprint returns the SHA256 fingerprint of a PEM private key's public
// half (what ssh shows on first connection), "" when it cannot be read.
func Fingerprint(pemKey []byte) string {
	s, err := gossh.ParsePrivateKey(pemKey)
	if err != nil {
		return ""
	}
	return gossh.FingerprintSHA256(s.PublicKey())
}
