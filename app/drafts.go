package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"smista/db"
	"smista/mail"
)

// ErrNoSuggestion is returned by RegenerateDraft when the classifier has no
// reply to suggest for the email.
var ErrNoSuggestion = errors.New("the classifier suggested no reply for this email")

// ApproveDraft approves a reply draft on behalf of who: the account that
// answers is chosen (where the email was synced, else the first that can
// send), the reply's Message-ID is fixed, and the reply joins the SMTP
// outbox; the running sender is woken. Nothing is sent without this call.
// It fails with ErrNoSMTPAccount, ErrNoRecipient, ErrDraftHeader, or with
// db.ErrDraftNotPending when the draft was approved, sent or discarded
// meanwhile.
func (a *App) ApproveDraft(ctx context.Context, id int64, who string) error {
	dr, orig, err := a.draftAndEmail(ctx, id)
	if err != nil {
		return fmt.Errorf("approve draft %d: %w", id, err)
	}
	to, cc, _, err := a.envelope(dr, orig)
	if err != nil {
		return fmt.Errorf("approve draft %d: %w", id, err)
	}
	if len(to)+len(cc) == 0 {
		return fmt.Errorf("approve draft %d: %w", id, ErrNoRecipient)
	}
	acct, err := a.replyAccount(ctx, dr.MessageID)
	if err != nil {
		return fmt.Errorf("approve draft %d: %w", id, err)
	}
	if _, err := a.db.ApproveReply(ctx, id, "human:"+who, acct.Name, mail.NewMessageID(acct.From.Addr)); err != nil {
		return err
	}
	a.record(ctx, who, fmt.Sprintf("approved draft #%d", id), "", dr.MessageID)
	a.wake()
	a.changed(TopicDrafts | TopicDeliveries)
	return nil
}

// EditDraft replaces a pending draft's body (the human's edit). It fails
// with db.ErrDraftNotPending once the draft left pending.
func (a *App) EditDraft(ctx context.Context, id int64, body string) error {
	if err := a.db.EditDraft(ctx, id, body); err != nil {
		return err
	}
	a.record(ctx, "", fmt.Sprintf("edited draft #%d", id), "", a.draftEmail(ctx, id))
	a.changed(TopicDrafts)
	return nil
}

// DiscardDraft drops a pending draft: it is kept as discarded, never sent.
func (a *App) DiscardDraft(ctx context.Context, id int64) error {
	if err := a.db.DiscardDraft(ctx, id); err != nil {
		return err
	}
	a.record(ctx, "", fmt.Sprintf("discarded draft #%d", id), "", a.draftEmail(ctx, id))
	a.changed(TopicDrafts)
	return nil
}

// RegenerateDraft replaces a pending reply's body with the classifier's
// suggestion again: the offline template for the email's intent and
// language, or the model's reply (LLM answers are cached per message,
// model and prompt version, so this never bills twice). A person's words
// are replaced only when replaceEdits is set: else it fails with
// ErrHumanEdits. It also fails with db.ErrDraftNotPending when the draft
// left pending, ErrNotAReply for a forward or a new message, or
// ErrNoSuggestion.
func (a *App) RegenerateDraft(ctx context.Context, id int64, replaceEdits bool) error {
	dr, err := a.db.Draft(ctx, id)
	if err != nil {
		return fmt.Errorf("regenerate draft %d: %w", id, err)
	}
	switch {
	case dr.Status != "pending":
		return fmt.Errorf("regenerate draft %d: %w", id, db.ErrDraftNotPending)
	case dr.Kind != db.DraftReply && dr.Kind != db.DraftReplyAll:
		return fmt.Errorf("regenerate draft %d (%s): %w", id, dr.Kind, ErrNotAReply)
	case dr.EditedBy != "" && !replaceEdits:
		return fmt.Errorf("regenerate draft %d (edited by %s): %w", id, dr.EditedBy, ErrHumanEdits)
	}
	m, err := a.db.Message(ctx, dr.MessageID)
	if err != nil {
		return fmt.Errorf("regenerate draft %d: %w", id, err)
	}
	c, err := a.classify()
	if err != nil {
		return fmt.Errorf("regenerate draft %d: %w", id, err)
	}
	res, err := c.Classify(ctx, m, a.triage.Context)
	if err != nil {
		return fmt.Errorf("regenerate draft %d: %w", id, err)
	}
	if strings.TrimSpace(res.Draft) == "" {
		return fmt.Errorf("regenerate draft %d: %w", id, ErrNoSuggestion)
	}
	if err := a.db.ReplaceDraftBody(ctx, id, res.Draft, ""); err != nil {
		return err
	}
	a.record(ctx, "", fmt.Sprintf("regenerated draft #%d", id), "", dr.MessageID)
	a.changed(TopicDrafts)
	return nil
}
