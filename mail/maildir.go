package mail

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// isMaildir reports whether dir has the cur and new folders of a Maildir.
func isMaildir(dir string) bool {
	for _, sub := range []string{"cur", "new"} {
		fi, err := os.Stat(filepath.Join(dir, sub))
		if err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

// walkMaildir passes every message in dir's new and cur folders (tmp holds
// deliveries in progress and is ignored), then recurses into Maildir++
// subfolders (".Sent", ".Archive", ...).
func walkMaildir(ctx context.Context, dir string, fn WalkFunc) error {
	for _, sub := range []string{"new", "cur"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			return fmt.Errorf("read maildir %s: %w", dir, err)
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			p := filepath.Join(dir, sub, e.Name())
			raw, err := readMessageFile(p)
			if err := fn(p, raw, err); err != nil {
				return err
			}
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read maildir %s: %w", dir, err)
	}
	for _, e := range entries {
		sub := filepath.Join(dir, e.Name())
		if e.IsDir() && strings.HasPrefix(e.Name(), ".") && isMaildir(sub) {
			if err := walkMaildir(ctx, sub, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// readMessageFile reads one message file, refusing files over
// MaxMessageBytes.
func readMessageFile(p string) ([]byte, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if fi.Size() > MaxMessageBytes {
		return nil, ErrTooLarge
	}
	return os.ReadFile(p)
}
