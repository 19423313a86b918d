package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// TokenStore keeps each account's OAuth2 token outside the configuration.
// LoadToken returns ErrNoToken when none is stored.
type TokenStore interface {
	LoadToken(ctx context.Context, account string) (Token, error)
	SaveToken(ctx context.Context, account string, tok Token) error
	// Where says where tokens live, for doctor and init ("keyring
	// (Secret Service)", "file /home/u/.local/share/smista/oauth2").
	Where() string
}

// FileTokenStore keeps one JSON file per account, mode 0600, in Dir
// (created 0700): the fallback where no keyring answers.
type FileTokenStore struct{ Dir string }

var _ TokenStore = FileTokenStore{}

func (f FileTokenStore) path(account string) string {
	return filepath.Join(f.Dir, fileSafe(account)+".json")
}

// fileSafe maps an account name onto a file name: letters, digits, '-',
// '_' and '.' are kept, anything else becomes '_' plus its hex code.
func fileSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.' && b.Len() > 0:
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "_%x", r)
		}
	}
	return b.String()
}

// LoadToken reads account's token; ErrNoToken when there is no file.
func (f FileTokenStore) LoadToken(_ context.Context, account string) (Token, error) {
	b, err := os.ReadFile(f.path(account))
	if errors.Is(err, os.ErrNotExist) {
		return Token{}, ErrNoToken
	}
	if err != nil {
		return Token{}, fmt.Errorf("token file: %w", err)
	}
	var t Token
	if err := json.Unmarshal(b, &t); err != nil {
		return Token{}, fmt.Errorf("token file %s: not a token (%w)", f.path(account), errJSON)
	}
	return t, nil
}

// errJSON stands for a JSON syntax error, whose text could quote the file.
var errJSON = errors.New("malformed JSON")

// SaveToken writes account's token to a temporary file (0600) and renames
// it over the old one, so a crash never leaves half a token.
func (f FileTokenStore) SaveToken(_ context.Context, account string, tok Token) error {
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	b, err := json.Marshal(tok)
	if err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	tmp, err := os.CreateTemp(f.Dir, ".token-*")
	if err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("token file: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("token file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path(account)); err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	return nil
}

// Where implements TokenStore.
func (f FileTokenStore) Where() string { return "file " + f.Dir + " (0600)" }

// SecretToolStore keeps tokens in the desktop keyring through the Secret
// Service (GNOME Keyring, KWallet, KeePassXC) with libsecret's secret-tool
// command: no D-Bus library to link, and the token goes through standard
// input, never the command line.
type SecretToolStore struct {
	// Path is the secret-tool binary.
	Path string
}

var _ TokenStore = SecretToolStore{}

// LoadToken implements TokenStore.
func (s SecretToolStore) LoadToken(ctx context.Context, account string) (Token, error) {
	out, stderr, err := s.run(ctx, nil, "lookup", "service", "smista", "account", account)
	if err != nil {
		if stderr == "" {
			return Token{}, ErrNoToken // secret-tool exits 1 silently when nothing matches
		}
		return Token{}, fmt.Errorf("keyring: %w%s", err, stderrHint(stderr))
	}
	var t Token
	if err := json.Unmarshal(out, &t); err != nil {
		return Token{}, fmt.Errorf("keyring: the stored item is not a token (%w)", errJSON)
	}
	return t, nil
}

// SaveToken implements TokenStore.
func (s SecretToolStore) SaveToken(ctx context.Context, account string, tok Token) error {
	b, err := json.Marshal(tok)
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	_, stderr, err := s.run(ctx, b, "store", "--label", "smista OAuth2 ("+account+")", "service", "smista", "account", account)
	if err != nil {
		return fmt.Errorf("keyring: %w%s", err, stderrHint(stderr))
	}
	return nil
}

// Where implements TokenStore.
func (s SecretToolStore) Where() string { return "keyring (Secret Service)" }

func (s SecretToolStore) run(ctx context.Context, stdin []byte, args ...string) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	return stdout.Bytes(), strings.TrimSpace(stderr.String()), err
}

// answers reports whether a Secret Service is reachable: a lookup of an
// item that does not exist exits 1 without a word, while a missing
// service or D-Bus session makes secret-tool complain on stderr.
func (s SecretToolStore) answers(ctx context.Context) bool {
	_, stderr, err := s.run(ctx, nil, "lookup", "service", "smista", "probe", "1")
	return stderr == "" && (err == nil || exitCode(err) == 1)
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// OpenTokenStore returns the OS keyring when one answers, else the 0600
// file store in dataDir/oauth2. A keyring is looked for only with a D-Bus
// session (DBUS_SESSION_BUS_ADDRESS) and secret-tool on the PATH;
// SMISTA_TOKEN_STORE=file skips it. lookPath finds binaries (nil:
// exec.LookPath).
func OpenTokenStore(ctx context.Context, dataDir string, getenv func(string) string, lookPath func(string) (string, error)) TokenStore {
	file := FileTokenStore{Dir: filepath.Join(dataDir, "oauth2")}
	if getenv == nil || getenv("SMISTA_TOKEN_STORE") == "file" || getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return file
	}
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	p, err := lookPath("secret-tool")
	if err != nil {
		return file
	}
	if st := (SecretToolStore{Path: p}); st.answers(ctx) {
		return st
	}
	return file
}

// OAuth2Source hands out a valid access token for one account: the one
// it holds while it is fresh, else a refreshed one (saved back, since
// providers may rotate the refresh token). It is safe for concurrent use.
type OAuth2Source struct {
	Client  *OAuth2Client
	Store   TokenStore
	Account string
	// Skew is how long before expiry a token is refreshed (default 2 min).
	Skew time.Duration

	mu  sync.Mutex
	tok Token
}

// AccessToken returns a valid access token. A missing or revoked sign-in
// yields an error wrapping ErrNoToken or ErrTokenRevoked whose text says
// to run "smista init --reauth ACCOUNT".
func (s *OAuth2Source) AccessToken(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	skew := s.Skew
	if skew <= 0 {
		skew = 2 * time.Minute
	}
	now := s.Client.now()
	if s.tok.Access != "" && now.Add(skew).Before(s.tok.Expiry) {
		return s.tok.Access, nil
	}
	if s.tok.Refresh == "" {
		t, err := s.Store.LoadToken(ctx, s.Account)
		if err != nil {
			return "", s.reauth(err)
		}
		s.tok = t
		if t.Access != "" && now.Add(skew).Before(t.Expiry) {
			return t.Access, nil
		}
	}
	t, err := s.Client.Refresh(ctx, s.tok.Refresh)
	if err != nil {
		return "", s.reauth(err)
	}
	s.tok = t
	if err := s.Store.SaveToken(ctx, s.Account, t); err != nil {
		return "", fmt.Errorf("account %q: save the refreshed token: %w", s.Account, err)
	}
	return t.Access, nil
}

// reauth words a sign-in that is missing or refused as the one line that
// says what to do.
func (s *OAuth2Source) reauth(err error) error {
	if errors.Is(err, ErrNoToken) || errors.Is(err, ErrTokenRevoked) {
		what := ErrTokenRevoked
		if errors.Is(err, ErrNoToken) {
			what = ErrNoToken
		}
		return &ReauthError{Account: s.Account, Err: what}
	}
	return fmt.Errorf("account %q: %w", s.Account, err)
}

// ReauthError says an account must sign in again.
type ReauthError struct {
	Account string
	Err     error // ErrNoToken or ErrTokenRevoked
}

// Error implements error: one line that says what to do.
func (e *ReauthError) Error() string {
	return fmt.Sprintf("account %q: %v: run 'smista init --reauth %s'", e.Account, e.Err, e.Account)
}

// Unwrap returns ErrNoToken or ErrTokenRevoked.
func (e *ReauthError) Unwrap() error { return e.Err }
