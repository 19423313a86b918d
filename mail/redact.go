package mail

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
)

// Redacted replaces a secret in errors and log lines that leave package
// mail.
const Redacted = "[redacted]"

// redactor replaces every form of an account's secrets that a server can
// echo in its answers: the password or token as typed, IMAP-quoted, the
// SASL initial responses smista sent (AUTHENTICATE PLAIN, XOAUTH2,
// OAUTHBEARER, all base64), and the base64 of the secret at any offset
// inside some other base64 text. The zero redactor changes nothing.
//
// Every error and log line of this package that can carry a server's words
// goes through one: DialIMAP, FileReply, SendSMTP, the Syncer's errors and
// Logf lines, the Watcher's events.
type redactor struct {
	forms []string          // longest first
	r     *strings.Replacer // nil: nothing to redact
}

// minSecret and minCore bound what is redacted, so that a one-letter
// password does not blank out every "a" of a message.
const (
	minSecret = 3
	minCore   = 6
)

// newRedactor returns a redactor for secrets (passwords, tokens) and
// blobs (SASL initial responses, sent base64-encoded).
func newRedactor(secrets []string, blobs [][]byte) redactor {
	var forms []string
	add := func(s string, min int) {
		if len(s) >= min && !slices.Contains(forms, s) {
			forms = append(forms, s)
		}
	}
	for _, s := range secrets {
		add(s, minSecret)
		add(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s), minSecret)
		for _, core := range base64Cores(s) {
			add(core, minCore)
		}
	}
	for _, b := range blobs {
		add(base64.StdEncoding.EncodeToString(b), minCore)
		add(base64.RawStdEncoding.EncodeToString(b), minCore)
	}
	return redactorOf(forms)
}

func redactorOf(forms []string) redactor {
	if len(forms) == 0 {
		return redactor{}
	}
	// Longest first: at a given position the replacer takes the first
	// form that matches, which must be the whole blob, not a part of it.
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, Redacted)
	}
	return redactor{forms: forms, r: strings.NewReplacer(pairs...)}
}

// base64Cores returns, for each of the three alignments a secret can have
// inside base64-encoded text, the characters that depend on the secret's
// bytes alone: every base64 text holding the secret at that alignment
// (an AUTHENTICATE PLAIN blob, a LOGIN username+password) contains them.
func base64Cores(s string) []string {
	var out []string
	for a := range 3 {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, a), s...))
		lo := (8*a + 5) / 6        // first character with no bit of the prefix
		hi := 8 * (a + len(s)) / 6 // characters whose bits are all the secret's
		if hi-lo > 0 && hi <= len(enc) {
			out = append(out, enc[lo:hi])
		}
	}
	return out
}

// string returns s with every form of the secrets replaced by Redacted.
func (r redactor) string(s string) string {
	if r.r == nil {
		return s
	}
	return r.r.Replace(s)
}

// err returns err unchanged when its text holds no secret; otherwise an
// error with the redacted text that still answers errors.Is for what err
// wraps (ErrAuthFailed, context.Canceled...), but not errors.As, which
// would hand out the text. A *SendError stays a *SendError (Temporary and
// Code kept, Text and Err redacted).
func (r redactor) err(err error) error {
	if err == nil || r.r == nil {
		return err
	}
	msg := err.Error()
	clean := r.string(msg)
	if clean == msg {
		return err
	}
	if se, ok := err.(*SendError); ok {
		return &SendError{Temporary: se.Temporary, Code: se.Code, Text: r.string(se.Text), Err: r.err(se.Err)}
	}
	return &redactedError{msg: clean, orig: err}
}

// merge returns a redactor for the forms of both.
func (r redactor) merge(o redactor) redactor {
	forms := slices.Clone(r.forms)
	for _, f := range o.forms {
		if !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	if len(forms) == len(r.forms) {
		return r
	}
	return redactorOf(forms)
}

// redactedError is an error whose text had a secret removed.
type redactedError struct {
	msg  string
	orig error
}

func (e *redactedError) Error() string { return e.msg }

// Is reports whether the original error matches target; it never exposes
// the original itself.
func (e *redactedError) Is(target error) bool { return errors.Is(e.orig, target) }
