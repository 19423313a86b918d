package mail

import (
	"errors"
	"fmt"
	"strings"

	gomail "net/mail"
)

// ErrBadAddress is returned by ParseAddressList for a list that is not a
// valid RFC 5322 address list.
var ErrBadAddress = errors.New("not an address list")

// ReplyAllRecipients returns who a reply to all goes to: To is the sender
// (ReplyRecipients), Cc every other address of the email's To and Cc,
// without the account's own addresses (self, compared without case) and
// without repeats.
func ReplyAllRecipients(orig *Message, self ...string) (to, cc []Address) {
	to = ReplyRecipients(orig)
	seen := map[string]bool{}
	for _, s := range self {
		seen[strings.ToLower(s)] = true
	}
	for _, a := range to {
		seen[strings.ToLower(a.Addr)] = true
	}
	for _, list := range [][]Address{orig.To, orig.Cc} {
		for _, a := range list {
			k := strings.ToLower(a.Addr)
			if a.Addr == "" || seen[k] {
				continue
			}
			seen[k] = true
			cc = append(cc, a)
		}
	}
	return to, cc
}

// ForwardSubject returns "Fwd: " + subject without stacking prefixes.
func ForwardSubject(subject string) string {
	s := strings.TrimSpace(oneLine(subject))
	for {
		low := strings.ToLower(s)
		switch {
		case strings.HasPrefix(low, "fwd:"):
			s = strings.TrimSpace(s[4:])
			continue
		case strings.HasPrefix(low, "fw:"):
			s = strings.TrimSpace(s[3:])
			continue
		}
		return "Fwd: " + s
	}
}

// ForwardText is the forwarded email as a forward's body carries it: its
// headers (From, Date, Subject, To, Cc) and its text.
func ForwardText(orig *Message) string {
	var b strings.Builder
	b.WriteString("---------- Forwarded message ----------\n")
	field := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, oneLine(v))
		}
	}
	field("From", orig.From.String())
	if !orig.Date.IsZero() {
		field("Date", orig.Date.Format("Mon, 2 Jan 2006 15:04 -0700"))
	}
	field("Subject", orig.Subject)
	field("To", FormatAddressList(orig.To))
	field("Cc", FormatAddressList(orig.Cc))
	b.WriteString("\n")
	b.WriteString(strings.TrimRight(strings.ReplaceAll(orig.Text, "\r\n", "\n"), "\n"))
	return b.String()
}

// FormatAddressList writes addresses as a person types them in a header:
// "Name <addr>, addr", the name quoted when it holds a comma or another
// special character, never RFC 2047 encoded.
func FormatAddressList(as []Address) string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		name, addr := oneLine(a.Name), oneLine(a.Addr)
		switch {
		case name == "":
			out = append(out, addr)
		case strings.ContainsAny(name, `()<>[]:;@\,."`):
			out = append(out, `"`+strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name)+`" <`+addr+`>`)
		default:
			out = append(out, name+" <"+addr+">")
		}
	}
	return strings.Join(out, ", ")
}

// ParseAddressList parses an address list a person typed ("Name <a@b>,
// c@d"); an empty list is nil. It fails with ErrBadAddress naming the
// part it could not read.
func ParseAddressList(s string) ([]Address, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	list, err := gomail.ParseAddressList(s)
	if err != nil {
		return nil, fmt.Errorf("%q: %w (%v)", s, ErrBadAddress, err)
	}
	out := make([]Address, len(list))
	for i, a := range list {
		out[i] = Address{Name: a.Name, Addr: a.Address}
	}
	return out, nil
}
