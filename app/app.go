// Package app is where every operation of smista lives, once, for every
// front end: the CLI, the TUI, and each SSH session of the team server.
// An App owns the store, the classifier, the accounts, the outbox sender
// and the clock; its methods import, sync, triage, decide, edit and
// approve drafts, manage endpoints and replay deliveries. Whatever changes
// is announced on the App's Bus, so every screen stays live.
//
// app draws nothing and parses no flags: package main turns flags and the
// configuration into Options, and the front ends print or draw the events.
package app

import (
	"errors"
	"sync"
	"time"

	"smista/db"
	"smista/mail"
	"smista/triage"
	"smista/webhook"
)

// ErrNoSMTPAccount is returned when a reply is approved but no configured
// account can send it.
var ErrNoSMTPAccount = errors.New("no account with an [account.smtp] server configured: add one to send replies")

// ErrNoAccounts is returned by Sync and Watch when no account is configured.
var ErrNoAccounts = errors.New("no [[account]] in the configuration: add one (see README.md, Configuration)")

// Options configures an App. Store is required; every other field has a
// working default (the offline classifier, DESIGN.md's delivery policy,
// no accounts).
type Options struct {
	// Store is the database; the App owns it from New on and closes it in
	// Close.
	Store *db.DB
	// Classifier classifies email; nil means the offline classifier,
	// loaded when first needed (commands that never classify skip it).
	Classifier triage.Classifier
	// Triage is the decision context: VIP list, own addresses, threshold,
	// raw_email_url template and the prompt version stored with results.
	Triage triage.Options
	// Concurrency bounds the classifications in flight (default 4).
	Concurrency int
	// Accounts are the mail accounts to sync and to send replies from.
	Accounts []mail.Account
	// Sender configures the outbox sender (timeouts, retries, the address
	// guard, the user agent). Its Transports, when nil, are built: signed
	// HTTP for webhooks and, with accounts, SMTP for approved replies.
	Sender webhook.Options
	// RotationGrace is how long a rotated-out secret keeps signing
	// (default 24 h).
	RotationGrace time.Duration
	// QuoteReplies appends the original, "> "-quoted, under a reply
	// (default true; set NoQuote to turn it off).
	NoQuote bool
	// Lease tunes the sender lease (one sender per store).
	Lease LeaseOptions
	// NoClaims turns off claims on shared mailboxes: installations then
	// rely on the webhook-id alone (receivers deduplicate).
	NoClaims bool
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// App is the one implementation of every operation. It is safe for
// concurrent use by any number of front ends.
type App struct {
	db       *db.DB
	bus      *Bus
	classify func() (triage.Classifier, error)
	triage   triage.Options
	conc     int
	accounts []mail.Account
	sendOpts webhook.Options
	grace    time.Duration
	quote    bool
	now      func() time.Time
	lease    LeaseOptions
	owner    string // this App's sender lease token
	noClaims bool
	claims   claims
	remotes  remotes // the state actions' connections and undo
	presence presence

	triageMu sync.Mutex // one triage run at a time: runs share the queue

	// adaptive is the offline classifier's learned layer (nil with an LLM
	// classifier); learnMu orders learning and storing it.
	adaptive *triage.Adaptive
	learnMu  sync.Mutex
	examples examples // the corrected emails an LLM sees as examples

	mu        sync.Mutex
	sender    *webhook.Sender // the running sender, nil when none runs here
	sent      webhook.Tally   // what this App's finished sender runs recorded
	senderRun bool            // RunSender runs (sending, or waiting for the lease)

	closeOnce sync.Once
	closeErr  error
}

// New returns an App over o.Store. It fails only without a store.
func New(o Options) (*App, error) {
	if o.Store == nil {
		return nil, errors.New("app: no store")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.RotationGrace <= 0 {
		o.RotationGrace = 24 * time.Hour
	}
	if o.Triage.Policy.Threshold == 0 {
		o.Triage.Policy = triage.DefaultPolicy()
	}
	if o.Sender.Now == nil {
		o.Sender.Now = o.Now
	}
	a := &App{
		db:       o.Store,
		bus:      NewBus(),
		triage:   o.Triage,
		conc:     o.Concurrency,
		accounts: o.Accounts,
		sendOpts: o.Sender,
		grace:    o.RotationGrace,
		quote:    !o.NoQuote,
		now:      o.Now,
		lease:    o.Lease.withDefaults(),
		owner:    newOwner(),
		noClaims: o.NoClaims,
	}
	base := o.Classifier
	a.classify = sync.OnceValues(func() (triage.Classifier, error) { return a.loadClassifier(base) })
	return a, nil
}

// Bus returns the bus on which the App announces progress, notices and
// changes.
func (a *App) Bus() *Bus { return a.bus }

// Store returns the database, for the read-only queries of the screens and
// listings.
func (a *App) Store() *db.DB { return a.db }

// Accounts returns the configured mail accounts.
func (a *App) Accounts() []mail.Account { return a.accounts }

// Close closes the store; a second call does nothing. Stop the App's
// background work (cancel the contexts of Run, RunSender, Watch) first.
func (a *App) Close() error {
	a.closeOnce.Do(func() {
		a.closeClaims()
		a.closeRemotes()
		a.closeErr = a.db.Close()
	})
	return a.closeErr
}

// changed announces that stored data of topics changed.
func (a *App) changed(topics Topic) { a.bus.Publish(Changed{Topics: topics}) }

// notice announces one line of text.
func (a *App) notice(kind, text string, isErr bool) {
	a.bus.Publish(Notice{Kind: kind, Text: text, Error: isErr, At: a.now()})
}

// wake tells the running sender, if any, that the outbox changed, so it
// sends at once instead of at its next poll.
func (a *App) wake() {
	a.mu.Lock()
	s := a.sender
	a.mu.Unlock()
	if s != nil {
		s.Notify()
	}
}
