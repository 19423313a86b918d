package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"smista/db"
	"smista/mail"
	"smista/webhook"
)

// smtpTransport delivers the outbox's smtp rows: an approved draft becomes
// an RFC 5322 reply sent over the account's SMTP server, then filed in Sent
// with the original flagged \Answered. It plugs into the same sender as
// webhooks: one outbox, one retry policy, one attempt log.
type smtpTransport struct {
	app *App
	// retries is the length of the sender's retry schedule: a temporary
	// failure on the last attempt of a round marks the draft failed too, so
	// it never stays "approved" behind a dead delivery.
	retries int
}

var _ webhook.Transport = (*smtpTransport)(nil)

// Deliver implements webhook.Transport. A draft already marked sent
// succeeds without sending again (the crash window between the server's
// 250 and the outbox's record); a 5xx marks the draft failed and the
// delivery dead with the server's text; 4xx and network errors are retried
// by the sender.
func (t *smtpTransport) Deliver(ctx context.Context, d webhook.Delivery) webhook.Result {
	a := t.app
	start := time.Now()
	res := webhook.Result{Started: start}
	fail := func(class string, code int, msg string) webhook.Result {
		res.Duration, res.Class, res.StatusCode, res.Err = time.Since(start), class, code, msg
		return res
	}
	permanent := func(code int, msg string) webhook.Result {
		t.failDraft(ctx, d, msg)
		r := fail(webhook.ClassOther, code, msg)
		// Retrying cannot help (5xx, no server, nothing to answer): the
		// sender makes the delivery dead at once, kept and replayable.
		r.Permanent = true
		return r
	}
	account := strings.TrimPrefix(d.Queue, KindSMTP+":")
	acct, ok := a.account(account)
	if !ok || acct.SMTP.Host == "" {
		return permanent(0, fmt.Sprintf("account %q has no smtp server configured", account))
	}
	draft, err := a.db.Draft(ctx, d.Ref)
	if err != nil {
		return fail(webhook.ClassOther, 0, err.Error())
	}
	switch draft.Status {
	case "sent":
		res.Duration = time.Since(start)
		return res
	case "approved":
	default:
		// Only an approved draft is ever sent.
		return permanent(0, fmt.Sprintf("draft %d is %s, not approved: not sent", draft.ID, draft.Status))
	}
	raw, rcpts, origID, err := t.compose(ctx, acct, draft)
	if errors.Is(err, ErrDraftHeader) {
		return permanent(0, err.Error())
	}
	if err != nil {
		return fail(webhook.ClassOther, 0, err.Error())
	}
	if len(rcpts) == 0 {
		return permanent(0, "the draft has no recipient (no To or Cc, and the email no From or Reply-To to answer)")
	}
	res.RequestBody = raw
	if err := mail.SendSMTP(ctx, acct.SMTP, acct.From.Addr, rcpts, raw); err != nil {
		var se *mail.SendError
		code := 0
		if errors.As(err, &se) {
			code = se.Code
		}
		if !mail.IsTemporary(err) {
			return permanent(code, err.Error())
		}
		class := webhook.ClassOther
		if code == 0 {
			class = webhook.ClassConnect
		}
		if d.RoundAttempts >= t.retries {
			t.failDraft(ctx, d, "gave up after retries: "+err.Error())
		}
		return fail(class, code, err.Error())
	}
	if err := a.db.MarkDraftSent(context.WithoutCancel(ctx), draft.ID); err != nil {
		a.notice("smtp", fmt.Sprintf("draft %d sent but not marked: %v", draft.ID, err), true)
	}
	res.Duration = time.Since(start)
	res.StatusCode = 250
	t.file(ctx, acct, origID, raw)
	a.changed(TopicDrafts)
	return res
}

// compose builds the mail of an approved draft: its recipients, and the
// id of the email a reply answers ("" for a forward or a new message,
// whose original is not flagged \Answered). A reply is threaded under its
// email. Headers unreadable at send time (written before approval checked
// them) are an error.
func (t *smtpTransport) compose(ctx context.Context, acct mail.Account, draft db.Draft) (raw []byte, rcpts []string, origID string, err error) {
	a := t.app
	var orig *mail.Message
	if draft.MessageID != "" {
		if orig, err = a.db.Message(ctx, draft.MessageID); err != nil {
			return nil, nil, "", err
		}
	}
	to, cc, subject, err := a.envelope(draft, orig)
	if err != nil {
		return nil, nil, "", err
	}
	for _, r := range append(to, cc...) {
		rcpts = append(rcpts, r.Addr)
	}
	o := mail.MailOptions{From: acct.From, To: to, Cc: cc, Subject: subject, Body: draft.Body,
		Date: draft.ApprovedAt, MessageID: draft.ReplyMessageID}
	if draft.Kind == db.DraftReply || draft.Kind == db.DraftReplyAll {
		o.Answers, o.Quote, origID = orig, a.quote, orig.ID
	}
	return mail.Compose(o), rcpts, origID, nil
}

func (t *smtpTransport) failDraft(ctx context.Context, d webhook.Delivery, msg string) {
	if err := t.app.db.FailDraft(context.WithoutCancel(ctx), d.Ref, d.ID, msg); err != nil {
		t.app.notice("smtp", fmt.Sprintf("draft %d: %v", d.Ref, err), true)
	}
	t.app.changed(TopicDrafts)
}

// file appends the reply to Sent and flags the original \Answered; both
// are best effort (the mail is already out) and only reported.
func (t *smtpTransport) file(ctx context.Context, acct mail.Account, origID string, raw []byte) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var mailbox string
	var uid uint32
	if locs, err := t.app.db.MessageLocations(fctx, origID); err == nil {
		for _, l := range locs {
			if l.Account == acct.Name {
				mailbox, uid = l.Mailbox, l.UID
				break
			}
		}
	}
	if err := mail.FileReply(fctx, acct, raw, mailbox, uid); err != nil {
		t.app.notice("smtp", fmt.Sprintf("%s: %v", acct.Name, err), true)
	}
}

// account returns the configured account called name.
func (a *App) account(name string) (mail.Account, bool) {
	for _, acct := range a.accounts {
		if acct.Name == name {
			return acct, true
		}
	}
	return mail.Account{}, false
}

// replyAccount picks the account that answers an email: the one it was
// synced into, when that account can send, else the first that can.
func (a *App) replyAccount(ctx context.Context, emailID string) (mail.Account, error) {
	if locs, err := a.db.MessageLocations(ctx, emailID); err == nil {
		for _, l := range locs {
			if acct, ok := a.account(l.Account); ok && acct.SMTP.Host != "" {
				return acct, nil
			}
		}
	}
	for _, acct := range a.accounts {
		if acct.SMTP.Host != "" {
			return acct, nil
		}
	}
	return mail.Account{}, ErrNoSMTPAccount
}
