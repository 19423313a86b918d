package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// ReplyOptions describes a reply to compose.
type ReplyOptions struct {
	From Address
	Body string
	// Quote appends the original text, each line prefixed with "> ".
	Quote bool
	Date  time.Time
	// MessageID is the reply's Message-ID with angle brackets; fixed at
	// approval so a resend after a crash carries the same id.
	MessageID string
}

// BuildReply composes an RFC 5322 reply to orig from from with a fresh
// Message-ID, returning the raw message and that Message-ID.
func BuildReply(orig *Message, from Address, body string, quote bool, now time.Time) (raw []byte, messageID string) {
	id := NewMessageID(from.Addr)
	return ComposeReply(orig, ReplyOptions{From: from, Body: body, Quote: quote, Date: now, MessageID: id}), id
}

// NewMessageID returns a fresh, globally unique Message-ID (with angle
// brackets) in the domain of addr ("smista.invalid" when it has none).
func NewMessageID(addr string) string {
	domain := "smista.invalid"
	if _, d, ok := strings.Cut(addr, "@"); ok && d != "" && !strings.ContainsAny(d, "<>\r\n \t") {
		domain = d
	}
	var b [16]byte
	rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return "<" + hex.EncodeToString(b[:]) + "@" + domain + ">"
}

// ReplySubject returns "Re: " + subject without stacking prefixes:
// "Re: Re: RE: x" and "x" both become "Re: x".
func ReplySubject(subject string) string {
	s := strings.TrimSpace(oneLine(subject))
	for {
		low := strings.ToLower(s)
		if strings.HasPrefix(low, "re:") {
			s = strings.TrimSpace(s[3:])
			continue
		}
		break
	}
	return "Re: " + s
}

// ReplyRecipients returns who a reply goes to: Reply-To when present, else
// From.
func ReplyRecipients(orig *Message) []Address {
	if len(orig.ReplyTo) > 0 {
		return orig.ReplyTo
	}
	if orig.From.Addr == "" {
		return nil
	}
	return []Address{orig.From}
}

// ComposeReply builds the raw reply: Re: subject, In-Reply-To, the
// References chain, To = Reply-To or From, Date, Message-ID, and a
// text/plain UTF-8 quoted-printable body.
func ComposeReply(orig *Message, o ReplyOptions) []byte {
	return Compose(MailOptions{From: o.From, To: ReplyRecipients(orig), Subject: ReplySubject(orig.Subject),
		Body: o.Body, Date: o.Date, MessageID: o.MessageID, Answers: orig, Quote: o.Quote})
}

// MailOptions describes a mail to compose: a reply of any kind, a
// forward or a new message.
type MailOptions struct {
	From    Address
	To, Cc  []Address
	Subject string
	Body    string
	Date    time.Time
	// MessageID is the mail's Message-ID with angle brackets.
	MessageID string
	// Answers is the email a reply answers: the mail is threaded under it
	// (In-Reply-To, References). nil for a forward or a new message.
	Answers *Message
	// Quote appends Answers' text, each line prefixed with "> ".
	Quote bool
}

// Compose builds a raw RFC 5322 mail: From, To, Cc, the subject (RFC 2047
// encoded), Date, Message-ID, In-Reply-To and References when it answers
// an email, and a text/plain UTF-8 quoted-printable body. CR and LF never
// reach a header from any field.
func Compose(o MailOptions) []byte {
	var h bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&h, "%s: %s\r\n", k, v) }
	list := func(as []Address) string {
		out := make([]string, len(as))
		for i, a := range as {
			out[i] = formatAddress(a)
		}
		return strings.Join(out, ", ")
	}
	header("From", formatAddress(o.From))
	if len(o.To) > 0 {
		header("To", list(o.To))
	}
	if len(o.Cc) > 0 {
		header("Cc", list(o.Cc))
	}
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(o.Subject)))
	date := o.Date
	if date.IsZero() {
		date = time.Now()
	}
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", oneLine(o.MessageID))
	if orig := o.Answers; orig != nil {
		if orig.MessageID != "" {
			header("In-Reply-To", oneLine(orig.MessageID))
		}
		if refs := referencesChain(orig); len(refs) > 0 {
			// One id per folded line keeps long chains within line limits.
			header("References", strings.Join(refs, "\r\n "))
		}
	}
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	h.WriteString("\r\n")

	text := strings.TrimRight(o.Body, "\n")
	if o.Quote && o.Answers != nil {
		text += "\n\n" + quoteOriginal(o.Answers)
	}
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n") + "\r\n"
	qp := quotedprintable.NewWriter(&h)
	qp.Write([]byte(text))
	qp.Close()
	return h.Bytes()
}

// referencesChain is orig's References (or its In-Reply-To) plus its own
// Message-ID, without duplicates.
func referencesChain(orig *Message) []string {
	var refs []string
	seen := map[string]bool{}
	add := func(id string) {
		id = oneLine(strings.TrimSpace(id))
		if id != "" && !seen[id] {
			seen[id] = true
			refs = append(refs, id)
		}
	}
	for _, r := range orig.References {
		add(r)
	}
	if len(orig.References) == 0 {
		add(orig.InReplyTo)
	}
	add(orig.MessageID)
	return refs
}

func quoteOriginal(orig *Message) string {
	who := orig.From.String()
	var b strings.Builder
	if !orig.Date.IsZero() {
		fmt.Fprintf(&b, "On %s, %s wrote:\n", orig.Date.Format("Mon, 2 Jan 2006 15:04"), who)
	} else {
		fmt.Fprintf(&b, "%s wrote:\n", who)
	}
	body := strings.TrimRight(strings.ReplaceAll(orig.Text, "\r\n", "\n"), "\n")
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, ">") {
			b.WriteString(">" + line + "\n")
		} else {
			b.WriteString("> " + line + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// formatAddress renders an address for a header, RFC 2047-encoding the
// name; CR and LF are removed so no header can be injected.
func formatAddress(a Address) string {
	na := netmail.Address{Name: oneLine(a.Name), Address: oneLine(a.Addr)}
	if na.Name == "" {
		return "<" + na.Address + ">"
	}
	return na.String()
}

// oneLineReplacer is built once: building a Replacer costs more than
// most of its uses (every reply subject a sync stores goes through it).
var oneLineReplacer = strings.NewReplacer("\r", "", "\n", " ")

func oneLine(s string) string {
	return oneLineReplacer.Replace(s)
}

// FileReply does the IMAP side of a sent reply: it appends raw to the
// account's Sent mailbox (\Seen, creating the mailbox when the server asks
// for it) and, when uid is not 0, sets \Answered on the original in
// mailbox. Both steps are attempted; the errors are joined.
func FileReply(ctx context.Context, acct Account, raw []byte, mailbox string, uid uint32) error {
	c, red, err := dialIMAP(ctx, acct.IMAP, nil)
	if err != nil {
		return red.err(fmt.Errorf("file reply: %w", err))
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	var errs []error
	if err := appendMessage(c, acct.Sent(), raw); err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) && ie.Code == imap.ResponseCodeTryCreate {
			if err := c.Create(acct.Sent(), nil).Wait(); err != nil {
				errs = append(errs, fmt.Errorf("create %s: %w", acct.Sent(), err))
			} else if err := appendMessage(c, acct.Sent(), raw); err != nil {
				errs = append(errs, fmt.Errorf("append to %s: %w", acct.Sent(), err))
			}
		} else {
			errs = append(errs, fmt.Errorf("append to %s: %w", acct.Sent(), err))
		}
	}
	if uid != 0 && mailbox != "" {
		if _, err := c.Select(mailbox, nil).Wait(); err != nil {
			errs = append(errs, fmt.Errorf("select %s: %w", mailbox, err))
		} else if err := c.Store(imap.UIDSetNum(imap.UID(uid)), &imap.StoreFlags{
			Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagAnswered}, Silent: true,
		}, nil).Close(); err != nil {
			errs = append(errs, fmt.Errorf("flag \\Answered: %w", err))
		}
	}
	c.Logout().Wait()
	if err := errors.Join(errs...); err != nil {
		return red.err(fmt.Errorf("file reply: %w", err))
	}
	return nil
}

func appendMessage(c *imapclient.Client, mailbox string, raw []byte) error {
	cmd := c.Append(mailbox, int64(len(raw)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen}})
	if _, err := cmd.Write(raw); err != nil {
		cmd.Close()
		return err
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	_, err := cmd.Wait()
	return err
}

// replyPrefixes are the subject prefixes of replies and forwards in the
// languages seen in support mail (lower case, without the colon): Re,
// Fwd, Fw, Italian R, Rif, I (inoltro), German AW, WG, Nordic SV, VS,
// French TR.
var replyPrefixes = []string{"re", "fwd", "fw", "r", "rif", "i", "aw", "wg", "sv", "vs", "tr"}

// BaseSubject returns subject without its reply and forward prefixes
// ("Re: Fwd: x" → "x", also "RE[2]: x"), and whether it had one.
func BaseSubject(subject string) (string, bool) {
	if !hasReplyPrefix(subject) {
		// Most subjects: no allocation (a store checks every new one).
		return strings.TrimSpace(subject), false
	}
	s := strings.TrimSpace(oneLine(subject))
	had := false
	for {
		head, rest, ok := strings.Cut(s, ":")
		if !ok {
			return s, had
		}
		p := strings.ToLower(strings.TrimSpace(head))
		if i := strings.IndexByte(p, '['); i > 0 && strings.HasSuffix(p, "]") {
			p = p[:i] // "re[2]"
		}
		if !slices.Contains(replyPrefixes, p) {
			return s, had
		}
		s, had = strings.TrimSpace(rest), true
	}
}

// hasReplyPrefix reports whether subject starts with one of
// replyPrefixes and a colon, any case, without allocating.
func hasReplyPrefix(subject string) bool {
	s := strings.TrimLeft(subject, " \t")
	head, _, ok := strings.Cut(s[:min(len(s), 12)], ":")
	if !ok {
		return false
	}
	head = strings.TrimSpace(head)
	if i := strings.IndexByte(head, '['); i > 0 && strings.HasSuffix(head, "]") {
		head = head[:i]
	}
	for _, p := range replyPrefixes {
		if strings.EqualFold(head, p) {
			return true
		}
	}
	return false
}
