// Package ui is smista's terminal interface (Bubble Tea v2): the inbox, the
// message view, drafts, tickets, the delivery log and endpoints, with a
// status bar fed live by the App's bus.
//
// The UI reads the store through small query interfaces and acts through
// the App (package app), whose methods are the one implementation of every
// operation; both are declared here as the UI consumes them. No I/O runs
// in Update or View: every query and action is a tea.Cmd.
package ui

import (
	"context"
	"errors"
	"time"

	"smista/app"
	"smista/db"
	"smista/triage"
)

// ErrNotAvailable is reported when an action's machinery is not wired.
var ErrNotAvailable = errors.New("not available in this build")

// InboxStore reads the inbox and single messages.
type InboxStore interface {
	Inbox(ctx context.Context, f db.InboxFilter, p db.Page) ([]db.InboxRow, error)
	InboxCount(ctx context.Context, f db.InboxFilter) (int, error)
	MessageDetail(ctx context.Context, id string) (*db.MessageDetail, error)
	// SearchBacklog counts the messages the search indexes do not hold
	// yet (their bodies are not searched).
	SearchBacklog(ctx context.Context) (int, error)
}

// OutboxStore reads tickets, the delivery log and attempts.
type OutboxStore interface {
	Tickets(ctx context.Context, offset, limit int) ([]db.TicketItem, error)
	Deliveries(ctx context.Context, f db.DeliveryFilter) ([]db.DeliveryItem, error)
	CountDeliveries(ctx context.Context, f db.DeliveryFilter) (int, error)
	Attempts(ctx context.Context, f db.AttemptFilter) ([]db.AttemptItem, error)
}

// ConfigStore reads endpoints and drafts.
type ConfigStore interface {
	Endpoints(ctx context.Context) ([]db.Endpoint, error)
	UndeliveredTickets(ctx context.Context) (int, error)
	Drafts(ctx context.Context, limit int) ([]db.DraftItem, error)
	// NewSupport counts the unread support requests triaged since a time
	// (the notice of new work).
	NewSupport(ctx context.Context, since time.Time) (int, error)
}

// Store is every query the screens need; *db.DB implements it.
type Store interface {
	InboxStore
	OutboxStore
	ConfigStore
}

// MessageActions act on one email: read state and the human's decision
// ("suggest as ticket" queues the ticket.suggested event; "not a ticket"
// cancels its undelivered deliveries).
type MessageActions interface {
	MarkSeen(ctx context.Context, id string) error
	SuggestTicket(ctx context.Context, emailID, who string) error
	NotTicket(ctx context.Context, emailID, who string) (int, error)
	CorrectIntent(ctx context.Context, emailID string, intent triage.Intent, who string) error
	// SaveAttachments writes the email's attachments into dir; it fails
	// with app.ErrFileExists rather than overwrite unless told to.
	SaveAttachments(ctx context.Context, emailID, dir string, overwrite bool) ([]string, error)
}

// DraftActions start, edit, regenerate, discard and approve drafts (a
// reply, a reply to all, a forward, a new message). Nothing is sent
// without ApproveDraft.
type DraftActions interface {
	// StartReply begins a mail of a kind (db.DraftReply ...) about an
	// email and returns its editor's text.
	StartReply(ctx context.Context, emailID, kind string) (app.Started, error)
	DraftText(ctx context.Context, id int64) (string, error)
	SaveDraftText(ctx context.Context, id int64, text, who string) error
	DiscardDraft(ctx context.Context, id int64) error
	RegenerateDraft(ctx context.Context, id int64, replaceEdits bool) error
	ApproveDraft(ctx context.Context, id int64, who string) error
	// OthersAnswered returns the replies other agents than who approved
	// lately for the same customer: approving asks before a second one.
	OthersAnswered(ctx context.Context, id int64, who string) ([]app.Answered, error)
}

// DeliveryActions send deliveries again (same webhook-id): one, or every
// one the log's filters match.
type DeliveryActions interface {
	Replay(ctx context.Context, deliveryID string) error
	ReplayMatching(ctx context.Context, f db.DeliveryFilter) (db.ReplayResult, error)
}

// EndpointActions manage webhook endpoints. AddEndpoint and RotateSecret
// return the secret, which the UI shows once.
type EndpointActions interface {
	AddEndpoint(ctx context.Context, url, secret string) (app.NewEndpoint, error)
	EnableEndpoint(ctx context.Context, id string) (int, error)
	DisableEndpoint(ctx context.Context, id string) (int, error)
	RotateSecret(ctx context.Context, id string) (string, time.Time, error)
	RemoveEndpoint(ctx context.Context, id string, force bool) (int, error)
	TestEndpoint(ctx context.Context, id string) (string, error)
	QueueUndeliveredTickets(ctx context.Context) (int, error)
}

// Actions is every operation the screens offer; *app.App implements it.
type Actions interface {
	MessageActions
	DraftActions
	DeliveryActions
	EndpointActions
}

// Presence tells the App which email a session shows, so that the other
// sessions show "giulia is on it" (the team server; nil elsewhere).
type Presence interface {
	SetViewing(session, agent, emailID string)
}

// Deps is what the UI needs from the rest of the program. Store is
// required; Actions and Events may be nil (a viewer: actions answer "not
// available"; screens refresh on the clock only).
type Deps struct {
	Store   Store
	Actions Actions
	// Events subscribes to the live events of the App's bus: it returns
	// their channel and the function that ends the subscription (main
	// wires BusEvents).
	Events func() (<-chan app.Event, func())
	// User names the human in decisions ("human:<User>").
	User string
	// Session names this session among the others of the process, and
	// Presence receives what it shows (both only on the team server).
	Session  string
	Presence Presence
	// NoSecrets refuses what would show a new secret (adding an endpoint,
	// rotating its secret): the team server's sessions never see one.
	NoSecrets bool
	// Editor is the external editor's command line (EditorCommand: $VISUAL,
	// $EDITOR, vi), split into words like a shell would (EditorArgs); ""
	// turns it off (the team server's sessions write in place).
	Editor string
	// Notify tells of new work (a new support request, an endpoint
	// disabled) on the terminal: "bell", "osc9", "osc777"; "" or "off"
	// says nothing (config ui.notify).
	Notify string
	// NoColor drops every colour (NO_COLOR).
	NoColor bool
	// Threshold is the decision threshold, around which the review queue
	// sorts; 0 means triage.DefaultThreshold.
	Threshold float64
	// Now is the clock (countdowns, relative times); nil means time.Now.
	Now func() time.Time
	// Timeout bounds each query and action; 0 means 10 s.
	Timeout time.Duration
	// Tick is the period of the clock that drives countdowns and store
	// refreshes; 0 means 1 s, negative turns it off (tests).
	Tick time.Duration
}

// BusEvents returns the Deps.Events of a bus.
func BusEvents(b *app.Bus) func() (<-chan app.Event, func()) {
	return func() (<-chan app.Event, func()) {
		s := b.Subscribe()
		return s.C(), s.Close
	}
}

var (
	_ Store    = (*db.DB)(nil)
	_ Actions  = (*app.App)(nil)
	_ Presence = (*app.App)(nil)
)
