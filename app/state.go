package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"smista/db"
	"smista/mail"
)

// ErrNothingToUndo is returned by Undo when no action is left to undo.
var ErrNothingToUndo = errors.New("nothing to undo")

// stateTimeout bounds one action on the server.
const stateTimeout = 20 * time.Second

// The actions on an email's state, as Undo names them.
const (
	ActSeen    = "seen"
	ActFlagged = "flagged"
	ActDone    = "done"
)

// undoEntry is the last state action of one actor, and what undoes it.
type undoEntry struct {
	kind  string // ActSeen, ActFlagged, ActDone
	id    string
	was   bool // the state before the action
	moves []moveBack
}

// moveBack is one server move an undo of "done" reverses.
type moveBack struct {
	account, from, to string // the move went from → to
	moved             mail.Moved
}

// remotes holds one Remote per account and each actor's last action.
type remotes struct {
	mu   sync.Mutex
	by   map[string]*mail.Remote
	last map[string]undoEntry // by actor ("" for the local person)
}

// remote returns the Remote of acct.
func (a *App) remote(acct mail.Account) *mail.Remote {
	r := &a.remotes
	r.mu.Lock()
	defer r.mu.Unlock()
	if rm := r.by[acct.Name]; rm != nil {
		return rm
	}
	if r.by == nil {
		r.by = map[string]*mail.Remote{}
	}
	rm := &mail.Remote{Account: acct}
	r.by[acct.Name] = rm
	return rm
}

// closeRemotes logs the state connections out.
func (a *App) closeRemotes() {
	r := &a.remotes
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rm := range r.by {
		_ = rm.Close()
	}
	r.by = nil
}

func (a *App) remember(ctx context.Context, e undoEntry) {
	r := &a.remotes
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		r.last = map[string]undoEntry{}
	}
	r.last[actor(ctx)] = e
}

// imapLocations returns where the email lives on configured IMAP accounts.
func (a *App) imapLocations(ctx context.Context, id string) ([]db.MessageLocation, error) {
	locs, err := a.db.MessageLocations(ctx, id)
	if err != nil {
		return nil, err
	}
	out := locs[:0]
	for _, l := range locs {
		if acct, ok := a.account(l.Account); ok && acct.IMAP.Host != "" {
			out = append(out, l)
		}
	}
	return out, nil
}

// MarkSeen marks an email as read, here and on the server it came from
// (opening an email does).
func (a *App) MarkSeen(ctx context.Context, id string) error {
	return a.SetSeen(ctx, id, true)
}

// SetSeen marks an email read or unread: in the store at once, then on
// every IMAP mailbox holding it (\Seen). A server's error is a notice: the
// store keeps the person's state, and nothing else changes. It fails only
// when the store does (ErrNotFound for an unknown email).
func (a *App) SetSeen(ctx context.Context, id string, seen bool) error {
	return a.setFlag(ctx, id, ActSeen, "seen", mail.FlagSeen, seen)
}

// SetFlagged stars an email or takes its star away, here and on the
// server (\Flagged), as SetSeen does.
func (a *App) SetFlagged(ctx context.Context, id string, on bool) error {
	return a.setFlag(ctx, id, ActFlagged, "flagged", mail.FlagFlagged, on)
}

func (a *App) setFlag(ctx context.Context, id, kind, column, flag string, on bool) error {
	changed, err := a.db.SetState(ctx, id, column, on)
	if err != nil {
		return err
	}
	if !changed {
		return nil
	}
	a.remember(ctx, undoEntry{kind: kind, id: id, was: !on})
	a.changed(TopicMessages)
	a.pushFlag(ctx, id, flag, on)
	return nil
}

// pushFlag stores flag on every IMAP location of the email; best effort.
func (a *App) pushFlag(ctx context.Context, id, flag string, on bool) {
	locs, err := a.imapLocations(ctx, id)
	if err != nil {
		a.notice("state", err.Error(), true)
		return
	}
	for _, l := range locs {
		acct, _ := a.account(l.Account)
		sctx, cancel := context.WithTimeout(ctx, stateTimeout)
		err := a.remote(acct).SetFlag(sctx, l.Mailbox, l.UID, flag, on)
		cancel()
		if err != nil {
			a.notice("state", fmt.Sprintf("%s: %v (kept here; the server still has the old state)", acct.Name, err), true)
		}
	}
}

// Done marks an email done: it leaves the unified inbox and, when it came
// from IMAP, moves into its account's archive mailbox (MOVE, or COPY +
// \Deleted + UID EXPUNGE; never a plain EXPUNGE). A server's error is a
// notice and the email stays done here. It fails only when the store does.
func (a *App) Done(ctx context.Context, id string) error {
	st, err := a.db.StateOf(ctx, id)
	if err != nil {
		return err
	}
	if st.Done {
		return nil
	}
	locs, err := a.imapLocations(ctx, id)
	if err != nil {
		return err
	}
	e := undoEntry{kind: ActDone, id: id}
	if _, err := a.db.SetState(ctx, id, "done", true); err != nil {
		return err
	}
	for _, l := range locs {
		acct, _ := a.account(l.Account)
		to := acct.ArchiveMailbox()
		if l.Mailbox == to {
			continue
		}
		mv, ok := a.move(ctx, acct, l.Mailbox, l.UID, st.MessageID, to)
		if ok {
			e.moves = append(e.moves, moveBack{account: acct.Name, from: l.Mailbox, to: to, moved: mv})
			if err := a.db.MoveLocation(ctx, id, acct.Name, l.Mailbox, l.UID, to, mv, true); err != nil {
				a.notice("state", err.Error(), true)
			}
		}
	}
	a.remember(ctx, e)
	a.changed(TopicMessages)
	return nil
}

// move moves one message on the server and says whether it left from.
func (a *App) move(ctx context.Context, acct mail.Account, from string, uid uint32, messageID, to string) (mail.Moved, bool) {
	mctx, cancel := context.WithTimeout(ctx, stateTimeout)
	defer cancel()
	mv, err := a.remote(acct).Move(mctx, from, uid, messageID, to)
	switch {
	case errors.Is(err, mail.ErrLeftDeleted):
		a.notice("state", fmt.Sprintf("%s: copied to %s; %v", acct.Name, to, err), true)
		return mv, false
	case err != nil:
		a.notice("state", fmt.Sprintf("%s: %v (kept here; on the server it stays in %s)", acct.Name, err, from), true)
		return mv, false
	}
	return mv, true
}

// Undo reverses the caller's last state action (read, star, done: unread
// again, unstar, moved back) and returns which it was (ActSeen ...) and
// the email. It fails with ErrNothingToUndo when there is none.
func (a *App) Undo(ctx context.Context) (kind, id string, err error) {
	r := &a.remotes
	r.mu.Lock()
	e, ok := r.last[actor(ctx)]
	delete(r.last, actor(ctx))
	r.mu.Unlock()
	if !ok {
		return "", "", ErrNothingToUndo
	}
	switch e.kind {
	case ActSeen:
		err = a.SetSeen(ctx, e.id, e.was)
	case ActFlagged:
		err = a.SetFlagged(ctx, e.id, e.was)
	case ActDone:
		err = a.undoDone(ctx, e)
	}
	// Undoing is itself no action to undo: an undo twice is not a redo.
	r.mu.Lock()
	delete(r.last, actor(ctx))
	r.mu.Unlock()
	return e.kind, e.id, err
}

func (a *App) undoDone(ctx context.Context, e undoEntry) error {
	st, err := a.db.StateOf(ctx, e.id)
	if err != nil {
		return err
	}
	if _, err := a.db.SetState(ctx, e.id, "done", false); err != nil {
		return err
	}
	for _, m := range e.moves {
		acct, ok := a.account(m.account)
		if !ok {
			continue
		}
		mv, ok := a.move(ctx, acct, m.to, m.moved.UID, st.MessageID, m.from)
		if ok {
			if err := a.db.MoveLocation(ctx, e.id, acct.Name, m.to, m.moved.UID, m.from, mv, false); err != nil {
				a.notice("state", err.Error(), true)
			}
		}
	}
	a.changed(TopicMessages)
	return nil
}
