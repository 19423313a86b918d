package app

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"smista/db"
)

// AnsweredWindow is how far back ApproveDraft's callers look for a reply
// another agent gave the same customer (OthersAnswered).
const AnsweredWindow = 10 * time.Minute

type actorKey struct{}

// WithActor returns ctx carrying the person who acts through it: the App
// records every action made with it as "human:<who>" and announces it on
// the bus (Activity), so that the other sessions see it.
func WithActor(ctx context.Context, who string) context.Context {
	return context.WithValue(ctx, actorKey{}, who)
}

// actor returns "human:<who>" of ctx, "" when nobody was named.
func actor(ctx context.Context) string {
	if who, _ := ctx.Value(actorKey{}).(string); who != "" {
		return "human:" + who
	}
	return ""
}

// Activity is an action a person took: every session shows the others'.
type Activity struct {
	Actor   string // "human:<name>"
	Action  string // "approved draft #3", "suggested a ticket", ...
	EmailID string
	At      time.Time
}

func (Activity) event() {}

// record logs an action of the person on ctx (or who, when set) in the
// store's audit log and announces it. A failure to log is reported, never
// returned: the action itself is done.
func (a *App) record(ctx context.Context, who, action, target, emailID string) {
	by := actor(ctx)
	if who != "" {
		by = "human:" + who
	}
	if by == "" {
		return
	}
	e := db.AuditEntry{At: a.now(), Actor: by, Action: action, Target: target, EmailID: emailID}
	if err := a.db.RecordAction(context.WithoutCancel(ctx), e); err != nil {
		a.notice("error", err.Error(), true)
	}
	text := action
	if target != "" {
		text += " " + target
	}
	a.bus.Publish(Activity{Actor: by, Action: text, EmailID: emailID, At: e.At})
}

// draftEmail returns the email a draft answers ("" when unknown).
func (a *App) draftEmail(ctx context.Context, id int64) string {
	dr, err := a.db.Draft(ctx, id)
	if err != nil {
		return ""
	}
	return dr.MessageID
}

// Answered is a reply another agent approved for the same customer.
type Answered struct {
	By string // "human:<name>"
	At time.Time
}

// OthersAnswered returns the replies other agents than who approved in
// the last AnsweredWindow for the customer that draft id answers: a front
// end asks before sending a second answer.
func (a *App) OthersAnswered(ctx context.Context, id int64, who string) ([]Answered, error) {
	rs, err := a.db.RecentReplies(ctx, id, "human:"+who, a.now().Add(-AnsweredWindow))
	if err != nil {
		return nil, err
	}
	out := make([]Answered, len(rs))
	for i, r := range rs {
		out[i] = Answered{By: r.ApprovedBy, At: r.ApprovedAt}
	}
	return out, nil
}

// Viewer is a session showing an email.
type Viewer struct {
	Session, Agent string
}

// Presence says who has which email open, across the sessions of this
// process (the team server's): email id → its viewers. It is published
// whole on every change.
type Presence struct {
	Viewers map[string][]Viewer
}

func (Presence) event() {}

// presence tracks what each session shows.
type presence struct {
	mu      sync.Mutex
	session map[string]Viewer // session → agent, keyed with the email below
	email   map[string]string // session → email id
}

// SetViewing records that a session of agent shows emailID ("" when it
// shows none, or left) and publishes the new Presence.
func (a *App) SetViewing(session, agent, emailID string) {
	p := &a.presence
	p.mu.Lock()
	if p.email == nil {
		p.email, p.session = map[string]string{}, map[string]Viewer{}
	}
	if p.email[session] == emailID {
		p.mu.Unlock()
		return
	}
	if emailID == "" {
		delete(p.email, session)
		delete(p.session, session)
	} else {
		p.email[session], p.session[session] = emailID, Viewer{Session: session, Agent: agent}
	}
	snap := Presence{Viewers: map[string][]Viewer{}}
	for s, id := range p.email {
		snap.Viewers[id] = append(snap.Viewers[id], p.session[s])
	}
	p.mu.Unlock()
	for _, vs := range snap.Viewers {
		slices.SortFunc(vs, func(x, y Viewer) int {
			return cmp.Or(cmp.Compare(x.Agent, y.Agent), cmp.Compare(x.Session, y.Session))
		})
	}
	a.bus.Publish(snap)
}
