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
	received := newestReceived(fields)
	switch {
	case parsed.IsZero(), parsed.Before(minPlausible),
		!received.IsZero() && parsed.After(received.Add(dateSkew)):
		m.Date, m.DateFallback = received, true
	default:
		m.Date = parsed
	}
}

// newestReceived returns the latest date among the Received: fields (the
// text after their last ';'), or the zero time.
func newestReceived(fields hdrFields) time.Time {
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
		if !t.IsZero() && !t.Before(minPlausible) && t.After(newest) {
			newest = t
		}
	}
	return newest
}

// parseDateText parses a date with net/mail's rules, then the broken
// layouts seen in the wild; it returns the zero time when nothing fits.
func parseDateText(raw string) time.Time {
	s := strings.Join(strings.Fields(toUTF8(raw)), " ")
	if s == "" {
		return time.Time{}
	}
	if t, err := netmail.ParseDate(s); err == nil {
		return t
	}
	return parseLayouts(s)
}

// UseInternalDate sets the server's INTERNALDATE as m's date when its
// Date header could not be trusted (m.DateFallback).
func (m *Message) UseInternalDate(internal time.Time) {
	if m.DateFallback && !internal.IsZero() && !internal.Before(minPlausible) {
		m.Date = internal
	}
}
