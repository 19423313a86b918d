// Package ui is smista's terminal interface (Bubble Tea v2): the inbox, the
// message view, drafts, tickets, the delivery log and endpoints, with a
// status bar fed live by the sync, triage and sender goroutines.
//
// The UI reads the store through small query interfaces and acts through
// small action interfaces, all declared here and wired by main. A nil action
// makes its keys answer "not available" in the status bar. No I/O runs in
// Update or View: every query and action is a tea.Cmd.
package ui

import (
	"context"
	"errors"
	"time"

	"smista/db"
)

// ErrNotAvailable is reported when an action's machinery is not wired.
var ErrNotAvailable = errors.New("not available in this build")

// InboxStore reads the inbox and single messages.
type InboxStore interface {
	Inbox(ctx context.Context, f db.InboxFilter, offset, limit int) ([]db.InboxRow, error)
	InboxCount(ctx context.Context, f db.InboxFilter) (int, error)
	MessageDetail(ctx context.Context, id string) (*db.MessageDetail, error)
	MarkSeen(ctx context.Context, id string) error
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
	Drafts(ctx context.Context, limit int) ([]db.DraftItem, error)
}

// Store is every query the screens need; *db.DB implements it.
type Store interface {
	InboxStore
	OutboxStore
	ConfigStore
}

// DraftEditor edits and discards drafts in the store.
type DraftEditor interface {
	EditDraft(ctx context.Context, id int64, body string) error
	DiscardDraft(ctx context.Context, id int64) error
}

// DraftApprover approves a draft: the reply joins the SMTP outbox. Nothing
// is sent without this call.
type DraftApprover interface {
	ApproveDraft(ctx context.Context, id int64, who string) error
}

// DraftRegenerator asks the model for a new draft.
type DraftRegenerator interface {
	RegenerateDraft(ctx context.Context, id int64) error
}

// Overrider records a human decision on an email: "suggest as ticket"
// queues the ticket.suggested event; "not a ticket" cancels undelivered
// deliveries.
type Overrider interface {
	SuggestTicket(ctx context.Context, emailID, who string) error
	NotTicket(ctx context.Context, emailID, who string) error
}

// Replayer sends deliveries again (same webhook-id).
type Replayer interface {
	Replay(ctx context.Context, deliveryID string) error
	ReplayDead(ctx context.Context, endpointID string) (int, error)
}

// EndpointAdmin manages webhook endpoints. Add and Rotate return the secret,
// which the UI shows once.
type EndpointAdmin interface {
	AddEndpoint(ctx context.Context, url string) (id, secret string, err error)
	SetEndpointEnabled(ctx context.Context, id string, enabled bool) error
	RotateSecret(ctx context.Context, id string) (secret string, err error)
	RemoveEndpoint(ctx context.Context, id string) error
}

// EndpointTester sends a test event to one endpoint.
type EndpointTester interface {
	TestEndpoint(ctx context.Context, id string) error
}

// Deps is what the UI needs from the rest of the program. Store is
// required; every other field may be nil.
type Deps struct {
	Store     Store
	Drafts    DraftEditor
	Approver  DraftApprover
	Regen     DraftRegenerator
	Overrides Overrider
	Replay    Replayer
	Endpoints EndpointAdmin
	Tester    EndpointTester
	// Live carries progress from background work: SyncProgress,
	// SenderStats, TriageProgress, Notice (any other value is ignored).
	// The UI reads it until it is closed or the program ends.
	Live <-chan any
	// User names the human in decisions ("human:<User>").
	User string
	// Editor is the external editor command ($EDITOR); "" disables it.
	Editor string
	// NoColor drops every colour (NO_COLOR).
	NoColor bool
	// Now is the clock (countdowns, relative times); nil means time.Now.
	Now func() time.Time
	// Timeout bounds each query and action; 0 means 10 s.
	Timeout time.Duration
	// Tick is the period of the clock that drives countdowns and store
	// refreshes; 0 means 1 s, negative turns it off (tests).
	Tick time.Duration
}

// SyncProgress reports mail sync progress.
type SyncProgress struct {
	Account, Mailbox string
	Done, Total      int
	Finished         bool
	Err              string
}

// SenderStats reports the webhook/SMTP sender's queue depth and in-flight count.
type SenderStats struct {
	Queue, InFlight int
}

// TriageProgress reports a classifier at work.
type TriageProgress struct {
	Working     bool
	Done, Total int
	Model       string
}

// Notice is an event worth telling the user, e.g. an endpoint was
// auto-disabled or a delivery died.
type Notice struct {
	Kind       string // "auto-disabled", "dead", "delivered", "sent", "error", ...
	EndpointID string
	Text       string
	Error      bool
}
