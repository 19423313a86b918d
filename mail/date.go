package mail

import (
	netmail "net/mail"
	"strings"
	"time"
)

// minPlausible is the earliest Date a header may carry: earlier ones are
// a mailer's bug ("Date: Tue, 04 Jun 0102", the year less 1900).
var minPlausible = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// dateSkew is how far a Date may lie after the newest Received: date
// (clocks drift; a mail is not written after it arrived).
const dateSkew = 48 * time.Hour

// settleDate sets m.Date from its header, or — when the header is
// missing, malformed, before 1970 or after the mail was received — from
// the newest Received: date, marking m.DateFallback (a sync then prefers
// the server's INTERNALDATE; a zero Date is stored as the import time).
func (m *Message) settleDate(fields hdrFields, parsed time.Time) {
	// The top Received: field is the last hop's, so the newest: a good
	// Date is checked against it alone (one date parsed, not one per hop).
	switch top := receivedDate(fields, true); {
	case parsed.IsZero(), parsed.Before(minPlausible), !top.IsZero() && parsed.After(top.Add(dateSkew)):
		m.Date, m.DateFallback = receivedDate(fields, false), true
	default:
		m.Date = parsed
	}
}

// receivedDate returns the date of the first Received: field that has one
// (first), or the latest among them all (the text after a field's last
// ';'); the zero time when none has one.
func receivedDate(fields hdrFields, first bool) time.Time {
	var newest time.Time
	for _, f := range fields {
		if f.key != "Received" {
			continue
		}
		i := strings.LastIndexByte(f.value, ';')
		if i < 0 {
			continue
		}
		t := parseDateText(f.value[i+1:])
		if t.IsZero() || t.Before(minPlausible) {
			continue
		}
		if first {
			return t
		}
		if t.After(newest) {
			newest = t
		}
	}
	return newest
}

// parseDateText parses a date with the layouts of parseLayouts, then
// net/mail's rules; it returns the zero time when nothing fits.
func parseDateText(raw string) time.Time {
	s := strings.Join(strings.Fields(toUTF8(raw)), " ")
	if i := strings.IndexByte(s, '('); i > 0 {
		s = strings.TrimSpace(s[:i]) // "… -0500 (CDT)": most Received: dates
	}
	if s == "" {
		return time.Time{}
	}
	// The usual layouts first: the RFC 5322 one every MTA writes parses
	// without allocating, where net/mail's parser allocates dozens of
	// times (a date is read for every stored mail).
	if t := parseLayouts(s); !t.IsZero() {
		return t
	}
	if t, err := netmail.ParseDate(s); err == nil {
		return t
	}
	return time.Time{}
}

// UseInternalDate sets the server's INTERNALDATE as m's date when its
// Date header could not be trusted (m.DateFallback).
func (m *Message) UseInternalDate(internal time.Time) {
	if m.DateFallback && !internal.IsZero() && !internal.Before(minPlausible) {
		m.Date = internal
	}
}
