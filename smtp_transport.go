package main

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

// errNoSMTPAccount is returned when a reply is approved but no configured
// account can send it.
var errNoSMTPAccount = errors.New("no account with an [account.smtp] server configured: add one to send replies")

// smtpTransport delivers the outbox's 'smtp' rows: an approved draft
// becomes an RFC 5322 reply sent over the account's SMTP server, then
// filed in Sent with the original flagged \Answered. It plugs into the
// same sender as webhooks (one outbox, one retry policy).
type smtpTransport struct {
	db       *db.DB
	accounts map[string]mail.Account
	// Quote appends the original, "> "-quoted, under the reply.
	Quote bool
	// Retries is the length of the sender's retry schedule: a temporary
	// failure on the last attempt of a round marks the draft failed too,
	// so it never stays "approved" behind a dead delivery.
	Retries int
	// Logf receives best-effort failures (filing in Sent, \Answered).
	Logf func(format string, args ...any)
}

var _ webhook.Transport = (*smtpTransport)(nil)

func newSMTPTransport(d *db.DB, accounts []mail.Account) *smtpTransport {
	t := &smtpTransport{db: d, accounts: map[string]mail.Account{}, Quote: true}
	for _, a := range accounts {
		t.accounts[a.Name] = a
	}
	return t
}

func (t *smtpTransport) logf(format string, args ...any) {
	if t.Logf != nil {
		t.Logf(format, args...)
	}
}

// Deliver implements webhook.Transport. A draft already marked sent
// succeeds without sending again (the crash window between the server's
// 250 and the outbox's record); a 5xx marks the draft failed and the
// delivery dead with the server's text; 4xx and network errors are
// retried by the sender.
func (t *smtpTransport) Deliver(ctx context.Context, d webhook.Delivery) webhook.Result {
	start := time.Now()
	res := webhook.Result{Started: start}
	fail := func(class string, code int, msg string) webhook.Result {
		res.Duration, res.Class, res.StatusCode, res.Err = time.Since(start), class, code, msg
		return res
	}
	permanent := func(msg string) webhook.Result {
		if err := t.db.FailDraft(context.WithoutCancel(ctx), d.DraftID, d.ID, msg); err != nil {
			t.logf("draft %d: %v", d.DraftID, err)
		}
		r := fail(webhook.ClassOther, 0, msg)
		// Retrying cannot help (5xx, no server, nothing to answer): the
		// sender makes the delivery dead at once, kept and replayable.
		r.Permanent = true
		return r
	}
	account := strings.TrimPrefix(d.Queue, "smtp:")
	acct, ok := t.accounts[account]
	if !ok || acct.SMTP.Host == "" {
		return permanent(fmt.Sprintf("account %q has no smtp server configured", account))
	}
	draft, err := t.db.Draft(ctx, d.DraftID)
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
		return permanent(fmt.Sprintf("draft %d is %s, not approved: not sent", draft.ID, draft.Status))
	}
	orig, err := t.db.Message(ctx, draft.MessageID)
	if err != nil {
		return fail(webhook.ClassOther, 0, err.Error())
	}
	var rcpts []string
	for _, a := range mail.ReplyRecipients(orig) {
		rcpts = append(rcpts, a.Addr)
	}
	if len(rcpts) == 0 {
		return permanent("the original message has no From or Reply-To address to answer")
	}
	raw := mail.ComposeReply(orig, mail.ReplyOptions{
		From: acct.From, Body: draft.Body, Quote: t.Quote, Date: draft.ApprovedAt, MessageID: draft.ReplyMessageID,
	})
	res.RequestBody = raw
	if err := mail.SendSMTP(ctx, acct.SMTP, acct.From.Addr, rcpts, raw); err != nil {
		var se *mail.SendError
		code := 0
		if errors.As(err, &se) {
			code = se.Code
		}
		if !mail.IsTemporary(err) {
			r := permanent(err.Error())
			r.StatusCode = code
			return r
		}
		class := webhook.ClassOther
		if code == 0 {
			class = webhook.ClassConnect
		}
		if d.RoundAttempts >= t.Retries {
			if ferr := t.db.FailDraft(context.WithoutCancel(ctx), d.DraftID, d.ID, "gave up after retries: "+err.Error()); ferr != nil {
				t.logf("draft %d: %v", d.DraftID, ferr)
			}
		}
		return fail(class, code, err.Error())
	}
	if err := t.db.MarkDraftSent(context.WithoutCancel(ctx), draft.ID); err != nil {
		t.logf("draft %d sent but not marked: %v", draft.ID, err)
	}
	res.Duration = time.Since(start)
	res.StatusCode = 250
	t.file(ctx, acct, orig.ID, raw)
	return res
}

// file appends the reply to Sent and flags the original \Answered; both
// are best effort (the mail is already out) and only logged.
func (t *smtpTransport) file(ctx context.Context, acct mail.Account, origID string, raw []byte) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var mailbox string
	var uid uint32
	if locs, err := t.db.MessageLocations(fctx, origID); err == nil {
		for _, l := range locs {
			if l.Account == acct.Name {
				mailbox, uid = l.Mailbox, l.UID
				break
			}
		}
	}
	if err := mail.FileReply(fctx, acct, raw, mailbox, uid); err != nil {
		t.logf("%s: %v", acct.Name, err)
	}
}

// draftApprover approves drafts for the UI and the demo: it picks the
// account (where the original was synced, else the first with SMTP), fixes
// the reply's Message-ID, queues the delivery and wakes the sender.
type draftApprover struct {
	db       *db.DB
	accounts []mail.Account
	// Notify wakes the outbox sender; may be nil.
	Notify func()
}

// ApproveDraft approves draft id on behalf of who and queues its reply.
func (a *draftApprover) ApproveDraft(ctx context.Context, id int64, who string) error {
	dr, err := a.db.Draft(ctx, id)
	if err != nil {
		return err
	}
	acct, err := a.accountFor(ctx, dr.MessageID)
	if err != nil {
		return err
	}
	if _, err := a.db.ApproveReply(ctx, id, who, acct.Name, mail.NewMessageID(acct.From.Addr)); err != nil {
		return err
	}
	if a.Notify != nil {
		a.Notify()
	}
	return nil
}

func (a *draftApprover) accountFor(ctx context.Context, emailID string) (mail.Account, error) {
	if locs, err := a.db.MessageLocations(ctx, emailID); err == nil {
		for _, l := range locs {
			for _, acct := range a.accounts {
				if acct.Name == l.Account && acct.SMTP.Host != "" {
					return acct, nil
				}
			}
		}
	}
	for _, acct := range a.accounts {
		if acct.SMTP.Host != "" {
			return acct, nil
		}
	}
	return mail.Account{}, errNoSMTPAccount
}

// outboxTransports returns the sender's transports: signed HTTP POSTs for
// webhooks and, when accounts are configured, SMTP for approved replies
// (one outbox, one sender). logf receives the SMTP transport's best-effort
// failures. The caller closes the returned closer when the sender stops.
func (a *App) outboxTransports(d *db.DB, accounts []mail.Account, opts webhook.Options, logf func(string, ...any)) (map[string]webhook.Transport, func()) {
	httpT := webhook.NewHTTPTransport(webhook.HTTPOptions{Guard: opts.Guard, Now: a.Now, UserAgent: opts.UserAgent})
	ts := map[string]webhook.Transport{webhook.KindWebhook: httpT}
	if len(accounts) > 0 {
		smtpT := newSMTPTransport(d, accounts)
		smtpT.Retries = len(opts.Retries)
		smtpT.Logf = logf
		ts["smtp"] = smtpT
	}
	return ts, httpT.Close
}
