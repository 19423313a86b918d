package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"smista/mail"
)

// SuggestClaimedElsewhere is the suggestion recorded for an email whose
// ticket another installation claimed on the shared mailbox: this one
// queues nothing.
const SuggestClaimedElsewhere = "ticket by another installation"

// claimTimeout bounds one claim or keyword on the server.
const claimTimeout = 20 * time.Second

// claims holds one Claimer per account, opened when first needed, and
// remembers the accounts already told that their server holds no claims.
type claims struct {
	mu   sync.Mutex
	inst string
	by   map[string]*mail.Claimer
	told map[string]bool
}

// claimer returns the Claimer of acct.
func (a *App) claimer(ctx context.Context, acct mail.Account) (*mail.Claimer, error) {
	c := &a.claims
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl := c.by[acct.Name]; cl != nil {
		return cl, nil
	}
	if c.inst == "" {
		id, err := a.db.InstallationID(ctx)
		if err != nil {
			return nil, err
		}
		c.inst = id
	}
	if c.by == nil {
		c.by = map[string]*mail.Claimer{}
	}
	cl := &mail.Claimer{Account: acct, Installation: c.inst}
	c.by[acct.Name] = cl
	return cl, nil
}

// closeClaims logs the claim connections out.
func (a *App) closeClaims() {
	c := &a.claims
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cl := range c.by {
		_ = cl.Close()
	}
	c.by = nil
}

// sayNoClaims tells, once per account, that its server cannot hold claims.
func (a *App) sayNoClaims(account string) {
	c := &a.claims
	c.mu.Lock()
	told := c.told[account]
	if c.told == nil {
		c.told = map[string]bool{}
	}
	c.told[account] = true
	c.mu.Unlock()
	if !told {
		a.notice("sync", account+": the server has no CONDSTORE or no user-defined keywords, so installations sharing "+
			"this mailbox cannot claim emails: each may send a ticket, and receivers deduplicate on webhook-id", false)
	}
}

// probeClaims checks, when sync starts, whether the account's mailboxes
// can hold claims, and says so once when they cannot.
func (a *App) probeClaims(ctx context.Context, acct mail.Account) {
	if a.noClaims || acct.IMAP.Host == "" {
		return
	}
	cl, err := a.claimer(ctx, acct)
	if err != nil {
		return
	}
	for _, mb := range acct.SyncMailboxes() {
		pctx, cancel := context.WithTimeout(ctx, claimTimeout)
		ok, err := cl.Supported(pctx, mb)
		cancel()
		if err == nil && !ok {
			a.sayNoClaims(acct.Name)
			return
		}
	}
}

// location returns where an email lives on a configured IMAP account.
func (a *App) location(ctx context.Context, emailID string) (mail.Account, string, uint32, bool) {
	locs, err := a.db.MessageLocations(ctx, emailID)
	if err != nil {
		return mail.Account{}, "", 0, false
	}
	for _, l := range locs {
		if acct, ok := a.account(l.Account); ok && acct.IMAP.Host != "" {
			return acct, l.Mailbox, l.UID, true
		}
	}
	return mail.Account{}, "", 0, false
}

// claimTicket claims an email the engine decided is a ticket on the
// mailbox it came from, before its event is queued. It returns lost when
// another installation holds the claim (then nothing is queued here), and
// a reason to record with the decision ("" for none). Mail that did not
// come from IMAP, an email a person decided, one already queued, and a
// server that cannot hold claims go on without one: the webhook-id, the
// same in every installation, lets the receiver deduplicate. A failed
// claim queues too: a ticket is never lost to a network error.
func (a *App) claimTicket(ctx context.Context, emailID string) (lost bool, reason string) {
	if a.noClaims {
		return false, ""
	}
	st, err := a.db.ClaimStateOf(ctx, emailID)
	if err != nil || st.HumanDecision != "" || st.Queued {
		return false, ""
	}
	acct, mailbox, uid, ok := a.location(ctx, emailID)
	if !ok {
		return false, ""
	}
	cl, err := a.claimer(ctx, acct)
	if err != nil {
		return false, ""
	}
	cctx, cancel := context.WithTimeout(ctx, claimTimeout)
	defer cancel()
	won, err := cl.Claim(cctx, mailbox, uid, mail.KeywordTicket)
	switch {
	case errors.Is(err, mail.ErrNoClaims):
		a.sayNoClaims(acct.Name)
		return false, ""
	case err != nil:
		a.notice("triage", fmt.Sprintf("%s: %v (the ticket is queued anyway)", acct.Name, err), true)
		return false, "not claimed on the server (" + err.Error() + "): receivers deduplicate on webhook-id"
	case !won:
		return true, "claimed on the server by another installation (" + mail.KeywordTicket + ")"
	}
	return false, "claimed on the server (" + mail.KeywordTicket + ")"
}

// markKeyword sets a person's override as a keyword on the mailbox the
// email came from, so that every installation shows it. Best effort: a
// failure is reported, the override stands.
func (a *App) markKeyword(ctx context.Context, emailID, keyword string) {
	if a.noClaims {
		return
	}
	acct, mailbox, uid, ok := a.location(ctx, emailID)
	if !ok {
		return
	}
	cl, err := a.claimer(ctx, acct)
	if err != nil {
		return
	}
	mctx, cancel := context.WithTimeout(ctx, claimTimeout)
	defer cancel()
	switch err := cl.Mark(mctx, mailbox, uid, keyword); {
	case errors.Is(err, mail.ErrNoClaims):
		a.sayNoClaims(acct.Name)
	case err != nil:
		a.notice("triage", fmt.Sprintf("%s: keyword %s not set: %v", acct.Name, keyword, err), true)
	}
}
