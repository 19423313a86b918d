package triage

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"smista/mail"
)

// DomainSet is the labelled mail of one product domain: a fictional
// company's support inbox (traindata/domains/*.txt). The offline model is
// trained on domains and evaluated leave-one-domain-out: a domain held out
// of training is the test.
type DomainSet struct {
	// Domain is the set's name (its file name without extension).
	Domain string
	// VIP is the VIP list the set was labelled with.
	VIP []string
	// Examples carry the gold intent, ticket and flags of each email,
	// named "<domain>:<n>" (n from 1, in file order).
	Examples []Example
}

// recordMark starts a record of a domain file: "%% intent ticket
// [flags...]", then the email's header lines, a blank line and its body.
const recordMark = "%% "

// ParseDomainMail reads one domain file. Lines before the first record are
// comments ("#") or the VIP list ("%vip a@b.example c.example"). A record
// is its mark line, "%% <intent> <yes|no> [flag...]", then a raw email:
// header lines, a blank line, the body (HTML when its Content-Type says
// so). It fails with ErrBadLabels naming the file and line.
func ParseDomainMail(name string, data []byte) (DomainSet, error) {
	set := DomainSet{Domain: strings.TrimSuffix(name, ".txt")}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	start := -1
	bad := func(i int, why string) (DomainSet, error) {
		return DomainSet{}, fmt.Errorf("domain mail %s:%d: %w: %s", name, i+1, ErrBadLabels, why)
	}
	for i := 0; i <= len(lines); i++ {
		if i < len(lines) && !strings.HasPrefix(lines[i], recordMark) {
			if start < 0 {
				if v, ok := strings.CutPrefix(lines[i], "%vip "); ok {
					set.VIP = append(set.VIP, strings.Fields(v)...)
				} else if t := strings.TrimSpace(lines[i]); t != "" && !strings.HasPrefix(t, "#") {
					return bad(i, "text before the first record")
				}
			}
			continue
		}
		if start >= 0 {
			ex, err := parseRecord(lines[start], lines[start+1:i])
			if err != nil {
				return bad(start, err.Error())
			}
			ex.Name = fmt.Sprintf("%s:%d", set.Domain, len(set.Examples)+1)
			set.Examples = append(set.Examples, ex)
		}
		start = i
	}
	if len(set.Examples) == 0 {
		return bad(0, "no record")
	}
	return set, nil
}

// parseRecord turns a mark line and the email lines after it into an
// example.
func parseRecord(mark string, email []string) (Example, error) {
	f := strings.Fields(strings.TrimPrefix(mark, recordMark))
	if len(f) < 2 || !slices.Contains(Intents, Intent(f[0])) || (f[1] != "yes" && f[1] != "no") {
		return Example{}, fmt.Errorf("want %q<intent> <yes|no> [flags]", recordMark)
	}
	ex := Example{Intent: Intent(f[0]), Ticket: f[1] == "yes"}
	for _, fl := range f[2:] {
		if MergeFlags(nil, []Flag{Flag(fl)}) == nil {
			return Example{}, fmt.Errorf("unknown flag %q", fl)
		}
		ex.Flags = append(ex.Flags, Flag(fl))
	}
	for len(email) > 0 && strings.TrimSpace(email[len(email)-1]) == "" {
		email = email[:len(email)-1]
	}
	var raw bytes.Buffer
	header := true
	for _, l := range email {
		if header && l == "" {
			header = false
			if !hasHeader(email, "Content-Type") {
				raw.WriteString("Content-Type: text/plain; charset=utf-8\n")
			}
			raw.WriteString("MIME-Version: 1.0\n")
		}
		raw.WriteString(l)
		raw.WriteByte('\n')
	}
	if header {
		return Example{}, fmt.Errorf("no blank line between header and body")
	}
	m, err := mail.Parse(raw.Bytes())
	if err != nil {
		return Example{}, fmt.Errorf("parse: %w", err)
	}
	if m.ID == "" {
		m.ID = mail.EmailID(m.MessageID)
	}
	ex.Message = m
	return ex, nil
}

// hasHeader reports a header field named key before the first blank line.
func hasHeader(lines []string, key string) bool {
	for _, l := range lines {
		if l == "" {
			return false
		}
		if k, _, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}
