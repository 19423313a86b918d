package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// ErrNoSecret is returned when a server needs a password or token and the
// configuration names neither a command nor an environment variable.
var ErrNoSecret = errors.New("no password_cmd or password_env configured")

// Secret says where a password or token comes from: a shell command whose
// trimmed output is the secret, or an environment variable. The secret
// itself never lives in configuration, logs or errors.
type Secret struct {
	// Cmd is run through "sh -c"; its standard output, trimmed, is the secret.
	Cmd string
	// Env names an environment variable holding the secret.
	Env string
	// File names a file whose trimmed content is the secret; it must not
	// be readable by others.
	File string
}

// IsZero reports whether no source is configured.
func (s Secret) IsZero() bool { return s.Cmd == "" && s.Env == "" && s.File == "" }

// Resolve returns the secret. getenv reads the environment (os.Getenv in
// production). A failing command yields "password_cmd failed: exit status
// N" with the command's stderr first line but never its standard output,
// which may hold part of the secret. It returns ErrNoSecret when no source
// is configured and an error when the source yields an empty secret.
func (s Secret) Resolve(ctx context.Context, what string, getenv func(string) string) (string, error) {
	switch {
	case s.Cmd != "":
		cmd := exec.CommandContext(ctx, "sh", "-c", s.Cmd)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				// stdout is deliberately dropped: a half-printed secret must
				// not leak into an error message.
				return "", fmt.Errorf("%s_cmd failed: exit status %d%s", what, ee.ExitCode(), stderrHint(stderr.String()))
			}
			return "", fmt.Errorf("%s_cmd failed: %w", what, err)
		}
		v := strings.TrimSpace(stdout.String())
		if v == "" {
			return "", fmt.Errorf("%s_cmd printed nothing", what)
		}
		return v, nil
	case s.File != "":
		fi, err := os.Stat(s.File)
		if err != nil {
			return "", fmt.Errorf("%s_file: %w", what, err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return "", fmt.Errorf("%s_file %s: mode %o lets others read it; run: chmod 600 %s", what, s.File, fi.Mode().Perm(), s.File)
		}
		b, err := os.ReadFile(s.File)
		if err != nil {
			return "", fmt.Errorf("%s_file: %w", what, err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("%s_file %s is empty", what, s.File)
		}
		return v, nil
	case s.Env != "":
		if getenv == nil {
			return "", fmt.Errorf("%s_env %s: no environment", what, s.Env)
		}
		v := getenv(s.Env)
		if v == "" {
			return "", fmt.Errorf("%s_env: environment variable %s is empty or unset", what, s.Env)
		}
		return v, nil
	default:
		return "", fmt.Errorf("%s: %w", what, ErrNoSecret)
	}
}

// stderrHint returns ": <first stderr line>" (at most 200 bytes) so a user
// sees why the command failed ("gpg: decryption failed"), or "".
func stderrHint(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	line = strings.TrimSpace(line)
	if line == "" {
		return ""
	}
	if len(line) > 200 {
		line = line[:200]
	}
	return " (" + line + ")"
}
