package app_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"smista/app"
	"smista/mail"
)

func TestSafeFileName(t *testing.T) {
	for in, want := range map[string]string{
		"report.pdf":             "report.pdf",
		"../../x":                "_.._x",
		"/etc/passwd":            "_etc_passwd",
		`..\..\win.ini`:          `_.._win.ini`,
		"..":                     "attachment-3",
		".bashrc":                "bashrc",
		"a\x1b[31mred\x07.txt":   "a[31mred.txt",
		"evil\u202etxt.exe":      "eviltxt.exe",
		"new\r\nline.txt":        "newline.txt",
		"":                       "attachment-3",
		strings.Repeat("é", 300): strings.Repeat("é", 100),
	} {
		if got := app.SafeFileName(in, 3); got != want {
			t.Errorf("SafeFileName(%q) = %q, want %q", in, got, want)
		}
	}
	long := app.SafeFileName(strings.Repeat("a", 300)+".pdf", 1)
	if len(long) > 200 || !strings.HasSuffix(long, ".pdf") {
		t.Errorf("a long name became %q (%d bytes), want ≤ 200 keeping .pdf", long, len(long))
	}
}

// TestSaveAttachments: an attachment named ../../x (and one with an
// absolute path) is saved inside the chosen directory; a second file of
// the same name is numbered; an existing file is never overwritten
// without asking, and nothing is written then.
func TestSaveAttachments(t *testing.T) {
	ctx := context.Background()
	a := newApp(t)
	raw := "From: a@example.com\r\nTo: b@example.com\r\nSubject: files\r\nMessage-ID: <att@example.com>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n" +
		"--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
		"--XX\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"../../x\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n" +
		"--XX\r\nContent-Type: text/plain; name=\"/tmp/abs.txt\"\r\nContent-Disposition: attachment\r\n\r\nabsolute\r\n" +
		"--XX\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"x\"\r\n\r\nsecond x\r\n" +
		"--XX--\r\n"
	m, err := mail.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store().SaveMessages(ctx, "test", []*mail.Message{m}); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	dir := filepath.Join(root, "in", "here")
	paths, err := a.SaveAttachments(ctx, m.ID, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"x": "hello", "abs.txt": "absolute", "x (2)": "second x"}
	if len(paths) != len(want) {
		t.Fatalf("saved %v, want %d files", paths, len(want))
	}
	for _, p := range paths {
		if filepath.Dir(p) != dir {
			t.Errorf("%s is not inside %s", p, dir)
		}
		b, err := os.ReadFile(p)
		if err != nil || strings.TrimSpace(string(b)) != want[filepath.Base(p)] {
			t.Errorf("%s holds %q (%v), want %q", p, b, err, want[filepath.Base(p)])
		}
	}
	// Nothing outside the directory: ../../x would be root/x.
	if _, err := os.Stat(filepath.Join(root, "x")); !os.IsNotExist(err) {
		t.Errorf("a file was written outside the chosen directory: %v", err)
	}
	if err := os.WriteFile(paths[0], []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(paths[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SaveAttachments(ctx, m.ID, dir, false); !errors.Is(err, app.ErrFileExists) || !strings.Contains(err.Error(), "x (2)") {
		t.Fatalf("saving over existing files: %v, want ErrFileExists naming them", err)
	}
	if b, _ := os.ReadFile(paths[0]); string(b) != "mine" {
		t.Errorf("the existing file was overwritten without asking: %q", b)
	}
	if _, err := os.Stat(paths[1]); !os.IsNotExist(err) {
		t.Errorf("a refused save wrote %s anyway", paths[1])
	}
	if _, err := a.SaveAttachments(ctx, m.ID, dir, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(paths[0]); string(b) != "hello" {
		t.Errorf("asked to overwrite, the file holds %q", b)
	}
}
