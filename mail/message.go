// Package mail owns the message model, MIME parsing, import of .eml, mbox and
// Maildir sources, IMAP sync and SMTP sending of approved replies. It knows
// nothing about triage or webhooks.
package mail

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Address is one decoded mailbox: a display name (RFC 2047 decoded, may be
// empty) and an address (may be empty when the header was unparseable).
type Address struct {
	Name string `json:"name,omitempty"`
	Addr string `json:"addr"`
}

// String formats the address for display: "Name <addr>" or "addr".
func (a Address) String() string {
	switch {
	case a.Name == "":
		return a.Addr
	case a.Addr == "":
		return a.Name
	default:
		return a.Name + " <" + a.Addr + ">"
	}
}

// Attachment describes one attached part; its bytes stay in Message.Raw.
type Attachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// Message is a parsed email. Every string field is decoded UTF-8; none of them
// is safe to draw on a terminal before it is sanitised.
type Message struct {
	// ID is smista's stable email id (the event's email_id), derived from
	// MessageID with EmailID.
	ID string
	// MessageID is the Message-ID header with its angle brackets, synthesised
	// stably from the headers when the mail has none.
	MessageID string
	// ThreadID groups a conversation: derived from the root of References,
	// else In-Reply-To, else the message's own Message-ID.
	ThreadID   string
	InReplyTo  string
	References []string

	From    Address
	To      []Address
	Cc      []Address
	ReplyTo []Address
	Subject string
	// Date is the Date header's, or when that is missing, malformed or
	// absurd the newest Received: date (DateFallback set; zero when none).
	Date         time.Time
	DateFallback bool

	// Text is the readable body: text/plain when present, else HTML
	// converted to text.
	Text string
	// HTML is the raw HTML body when the message has one ("" otherwise);
	// triage reads it to find hidden text.
	HTML        string
	Attachments []Attachment

	// Header holds every top-level header, keys canonicalised
	// (textproto.CanonicalMIMEHeaderKey), values RFC 2047 decoded.
	Header map[string][]string

	// Raw is the message exactly as received.
	Raw []byte
}

// Get returns the first value of the named top-level header, or "".
func (m *Message) Get(key string) string {
	if v := m.Header[canonicalKey(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// StableID returns m.ID, or the id derived from m's Message-ID (EmailID)
// when m.ID is not set: the one fallback every store and payload uses.
func (m *Message) StableID() string {
	if m.ID != "" {
		return m.ID
	}
	return EmailID(m.MessageID)
}

// EmailID derives the stable email id from a Message-ID: the first 16 hex
// digits of its SHA-256, so the same mail imported twice or synced from IMAP
// maps to the same row.
func EmailID(messageID string) string {
	sum := sha256.Sum256([]byte(messageID))
	return hex.EncodeToString(sum[:8])
}
