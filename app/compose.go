package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"smista/db"
	"smista/mail"
)

// ErrNoRecipient is returned by ApproveDraft for a draft whose To and Cc
// name nobody.
var ErrNoRecipient = errors.New("the draft has no recipient (write one after To: in the editor)")

// ErrHumanEdits is returned by RegenerateDraft when the draft holds a
// person's words and replacing them was not asked for.
var ErrHumanEdits = errors.New("the draft holds a person's edits (regenerate again to replace them)")

// ErrNotAReply is returned by RegenerateDraft for a forward or a new
// message: the classifier only suggests replies.
var ErrNotAReply = errors.New("only replies have a suggested text")

// ErrDraftHeader is returned by SaveDraftText for a header line it cannot
// read (an unknown header, a broken address list).
var ErrDraftHeader = errors.New("bad header")

// Started is a draft ready for its editor.
type Started struct {
	ID int64
	// Text is what the editor starts with: the headers (To, Cc, Subject),
	// a blank line, the body (the generated draft, where there is one).
	Text string
	// Created says the draft is new; false when it is the email's pending
	// draft of that kind (the one triage wrote, or one begun before).
	Created bool
}

// StartReply begins a mail of kind (db.DraftReply, DraftReplyAll,
// DraftForward, DraftNew) about the email id (ignored for a new message)
// and returns it ready for an editor. Any email can be answered, whatever
// its triage said (a legal flag, spam, an injection, no draft). A reply
// continues the email's pending reply draft when it has one; a reply to
// all starts from that draft's text; a forward carries the email's text.
// Nothing is sent: ApproveDraft is still needed.
func (a *App) StartReply(ctx context.Context, emailID, kind string) (Started, error) {
	if kind == db.DraftNew {
		id, err := a.db.CreateComposed(ctx, db.Composed{Kind: db.DraftNew})
		if err != nil {
			return Started{}, fmt.Errorf("new message: %w", err)
		}
		a.changed(TopicDrafts)
		return Started{ID: id, Text: FormatDraftText(DraftHeaders{}, ""), Created: true}, nil
	}
	if kind != db.DraftReply && kind != db.DraftReplyAll && kind != db.DraftForward {
		return Started{}, fmt.Errorf("start %q: not a kind of mail (reply, reply_all, forward, new)", kind)
	}
	orig, err := a.db.Message(ctx, emailID)
	if err != nil {
		return Started{}, fmt.Errorf("start %s: %w", kind, err)
	}
	if dr, err := a.db.PendingDraft(ctx, emailID, kind); err == nil {
		return Started{ID: dr.ID, Text: FormatDraftText(a.headers(dr, orig), dr.Body)}, nil
	} else if !errors.Is(err, db.ErrNotFound) {
		return Started{}, fmt.Errorf("start %s: %w", kind, err)
	}
	var body string
	switch kind {
	case db.DraftReplyAll:
		if gen, err := a.db.PendingDraft(ctx, emailID, db.DraftReply); err == nil {
			body = gen.Body
		}
	case db.DraftForward:
		body = "\n\n" + mail.ForwardText(orig)
	}
	id, err := a.db.CreateComposed(ctx, db.Composed{MessageID: emailID, Kind: kind, Body: body})
	if err != nil {
		return Started{}, fmt.Errorf("start %s: %w", kind, err)
	}
	a.changed(TopicDrafts)
	dr := db.Draft{ID: id, MessageID: emailID, Kind: kind}
	return Started{ID: id, Text: FormatDraftText(a.headers(dr, orig), body), Created: true}, nil
}

// DraftText returns a draft as its editor shows it: the headers, a blank
// line, the body.
func (a *App) DraftText(ctx context.Context, id int64) (string, error) {
	dr, orig, err := a.draftAndEmail(ctx, id)
	if err != nil {
		return "", fmt.Errorf("draft %d: %w", id, err)
	}
	return FormatDraftText(a.headers(dr, orig), dr.Body), nil
}

// SaveDraftText stores what a person wrote in a draft's editor: the
// headers at the top (To, Cc, Subject) and the body, recorded as edited by
// who. A text that does not start with one of those headers is all body
// (the headers stay as they were). It fails with ErrDraftHeader for a
// header it cannot read, or db.ErrDraftNotPending.
func (a *App) SaveDraftText(ctx context.Context, id int64, text, who string) error {
	dr, orig, err := a.draftAndEmail(ctx, id)
	if err != nil {
		return fmt.Errorf("save draft %d: %w", id, err)
	}
	h, body, ok, err := ParseDraftText(text)
	if err != nil {
		return fmt.Errorf("save draft %d: %w", id, err)
	}
	if !ok {
		h = a.headers(dr, orig)
	}
	by := "human"
	if who != "" {
		by = "human:" + who
	}
	if err := a.db.SaveComposed(ctx, id, db.Composed{Kind: dr.Kind, To: h.To, Cc: h.Cc, Subject: h.Subject,
		Body: body, EditedBy: by}); err != nil {
		return err
	}
	a.record(ctx, who, fmt.Sprintf("edited draft #%d", id), "", dr.MessageID)
	a.changed(TopicDrafts)
	return nil
}

// draftAndEmail reads a draft and the email it answers (nil for a new
// message).
func (a *App) draftAndEmail(ctx context.Context, id int64) (db.Draft, *mail.Message, error) {
	dr, err := a.db.Draft(ctx, id)
	if err != nil {
		return dr, nil, err
	}
	if dr.MessageID == "" {
		return dr, nil, nil
	}
	orig, err := a.db.Message(ctx, dr.MessageID)
	return dr, orig, err
}

// DraftHeaders are the header lines at the top of a draft's editor, as
// written.
type DraftHeaders struct{ To, Cc, Subject string }

// headers returns the draft's headers: those a person wrote, else the
// kind's defaults from the email.
func (a *App) headers(dr db.Draft, orig *mail.Message) DraftHeaders {
	h := DraftHeaders{To: dr.To, Cc: dr.Cc, Subject: dr.Subject}
	if orig == nil || dr.To != "" || dr.Cc != "" || dr.Subject != "" {
		return h
	}
	switch dr.Kind {
	case db.DraftReply:
		h.To, h.Subject = mail.FormatAddressList(mail.ReplyRecipients(orig)), mail.ReplySubject(orig.Subject)
	case db.DraftReplyAll:
		to, cc := mail.ReplyAllRecipients(orig, a.ownAddresses()...)
		h.To, h.Cc, h.Subject = mail.FormatAddressList(to), mail.FormatAddressList(cc), mail.ReplySubject(orig.Subject)
	case db.DraftForward:
		h.Subject = mail.ForwardSubject(orig.Subject)
	}
	return h
}

// ownAddresses are the accounts' own addresses: a reply to all leaves
// them out.
func (a *App) ownAddresses() []string {
	var out []string
	for _, acct := range a.accounts {
		out = append(out, acct.From.Addr, acct.IMAP.Username)
	}
	return out
}

// envelope is what a draft is sent as: its recipients and subject parsed
// from its headers. It fails with ErrDraftHeader for an unreadable list.
func (a *App) envelope(dr db.Draft, orig *mail.Message) (to, cc []mail.Address, subject string, err error) {
	h := a.headers(dr, orig)
	if to, err = mail.ParseAddressList(h.To); err != nil {
		return nil, nil, "", fmt.Errorf("%w: To: %w", ErrDraftHeader, err)
	}
	if cc, err = mail.ParseAddressList(h.Cc); err != nil {
		return nil, nil, "", fmt.Errorf("%w: Cc: %w", ErrDraftHeader, err)
	}
	return to, cc, h.Subject, nil
}

// FormatDraftText is a draft as its editor shows it: To, Cc and Subject
// lines, a blank line, the body.
func FormatDraftText(h DraftHeaders, body string) string {
	return "To: " + h.To + "\nCc: " + h.Cc + "\nSubject: " + h.Subject + "\n\n" + body
}

// ParseDraftText reads an editor's text back: the header lines up to the
// first blank line (To, Cc, Subject, in any case and order; an indented
// line continues the one above), then the body. ok is false when the text
// does not start with one of those headers: then it is all body. It fails
// with ErrDraftHeader for another header in the block.
func ParseDraftText(text string) (h DraftHeaders, body string, ok bool, err error) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	head, rest, found := strings.Cut(text, "\n\n")
	if !found {
		head, rest = strings.TrimRight(text, "\n"), ""
	}
	lines := strings.Split(head, "\n")
	if k, _, isHeader := strings.Cut(lines[0], ":"); !isHeader || draftField(&h, k) == nil {
		return DraftHeaders{}, text, false, nil
	}
	var cur *string
	for _, l := range lines {
		if cur != nil && (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) {
			*cur += " " + strings.TrimSpace(l)
			continue
		}
		k, v, isHeader := strings.Cut(l, ":")
		if cur = draftField(&h, k); !isHeader || cur == nil {
			return DraftHeaders{}, "", false, fmt.Errorf("%w: %q (the editor's header lines are To, Cc and Subject; a blank line starts the body)",
				ErrDraftHeader, l)
		}
		*cur = strings.TrimSpace(v)
	}
	return h, rest, true, nil
}

func draftField(h *DraftHeaders, key string) *string {
	switch strings.ToLower(strings.TrimSpace(key)) {
	case "to":
		return &h.To
	case "cc":
		return &h.Cc
	case "subject":
		return &h.Subject
	}
	return nil
}
