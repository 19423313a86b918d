package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"smista/mail"
)

// ErrFileExists is returned by SaveAttachments when a file of the same
// name is in the directory and overwriting was not asked for: nothing is
// written then.
var ErrFileExists = errors.New("a file of that name exists")

// maxFileName bounds a saved attachment's name, in bytes (file systems
// take 255).
const maxFileName = 200

// SaveAttachments writes the email's attachments into dir (created when
// missing) under SafeFileName names, and returns their paths. A name that
// comes twice gets " (2)" before its extension. An existing file is
// replaced only when overwrite is set; else, before writing anything, it
// fails with an error wrapping ErrFileExists that names them. Nothing is
// ever written outside dir.
func (a *App) SaveAttachments(ctx context.Context, emailID, dir string, overwrite bool) ([]string, error) {
	m, err := a.db.Message(ctx, emailID)
	if err != nil {
		return nil, fmt.Errorf("save attachments: %w", err)
	}
	full, err := mail.ParseFull(m.Raw)
	if err != nil {
		return nil, fmt.Errorf("save attachments: %w", err)
	}
	if len(full.Attachments) == 0 {
		return nil, errors.New("save attachments: the email has none")
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("save attachments: %w", err)
	}
	paths, taken := make([]string, len(full.Attachments)), map[string]bool{}
	var exist []string
	for i, at := range full.Attachments {
		name := uniqueName(SafeFileName(at.Filename, i+1), taken)
		p := filepath.Join(dir, name)
		if filepath.Dir(p) != dir { // SafeFileName's names have no separator: a guard all the same
			return nil, fmt.Errorf("save attachments: %q would leave %s", name, dir)
		}
		paths[i] = p
		if _, err := os.Lstat(p); err == nil {
			exist = append(exist, name)
		}
	}
	if len(exist) > 0 && !overwrite {
		return nil, fmt.Errorf("save attachments: %s in %s: %w", strings.Join(exist, ", "), dir, ErrFileExists)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("save attachments: %w", err)
	}
	for i, at := range full.Attachments {
		flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
		if overwrite {
			flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		}
		if err := writeFile(paths[i], flag, at.Data); err != nil {
			return paths[:i], fmt.Errorf("save attachments: %w", err)
		}
	}
	a.record(ctx, "", fmt.Sprintf("saved %d attachments", len(paths)), dir, emailID)
	return paths, nil
}

func writeFile(path string, flag int, data []byte) error {
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// SafeFileName turns an attachment's name, as the mail gives it, into a
// plain file name: no directory (slashes and backslashes become "_"), no
// control or format characters, no leading dot (no hidden file, no ".."),
// valid UTF-8, at most 200 bytes with the extension kept. An empty result
// becomes "attachment-<n>".
func SafeFileName(name string, n int) string {
	name = strings.ToValidUTF8(name, "_")
	var b strings.Builder
	for _, r := range name {
		switch {
		case r == '/' || r == '\\':
			b.WriteRune('_')
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError:
		default:
			b.WriteRune(r)
		}
	}
	s := strings.TrimSpace(b.String())
	s = strings.TrimLeft(s, ". ")
	if s == "" || strings.Trim(s, "_") == "" {
		return fmt.Sprintf("attachment-%d", n)
	}
	if len(s) > maxFileName {
		ext := filepath.Ext(s)
		if len(ext) > 20 {
			ext = ""
		}
		s = strings.ToValidUTF8(s[:maxFileName-len(ext)], "") + ext
	}
	return s
}

// uniqueName returns name, or name with " (2)", " (3)"… before its
// extension when an earlier attachment took it.
func uniqueName(name string, taken map[string]bool) string {
	out := name
	ext := filepath.Ext(name)
	for i := 2; taken[strings.ToLower(out)]; i++ {
		out = fmt.Sprintf("%s (%d)%s", strings.TrimSuffix(name, ext), i, ext)
	}
	taken[strings.ToLower(out)] = true
	return out
}
