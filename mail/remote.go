package mail

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// The system flags a person's actions set on the server.
const (
	FlagSeen    = `\Seen`
	FlagFlagged = `\Flagged`
)

// ErrLeftDeleted is returned by Remote.Move when the server has neither
// MOVE nor UIDPLUS: the message was copied and marked \Deleted in its
// mailbox, but not expunged, since a plain EXPUNGE would also remove
// every message another client marked \Deleted. The copy is in place.
var ErrLeftDeleted = errors.New("the server has neither MOVE nor UIDPLUS: the original stays in its mailbox marked \\Deleted")

// Remote applies a person's actions to messages on an account's IMAP
// server: flags (\Seen, \Flagged) and moves between mailboxes (archive,
// and its undo). It keeps one connection, opened when first needed and
// reopened after a failure, and is safe for concurrent use (commands are
// serialised).
type Remote struct {
	Account Account
	// Options are passed to the IMAP client (tests use a debug writer).
	Options *imapclient.Options

	mu       sync.Mutex
	c        *imapclient.Client
	red      redactor
	selected string
}

// SetFlag adds flag to the message uid of mailbox (on) or removes it. It
// fails with ErrNoMessage when the UID is gone, or a network or server
// error (never carrying the password).
func (r *Remote) SetFlag(ctx context.Context, mailbox string, uid uint32, flag string, on bool) error {
	err := r.retry(ctx, mailbox, func() error {
		op := imap.StoreFlagsDel
		if on {
			op = imap.StoreFlagsAdd
		}
		return r.c.Store(imap.UIDSetNum(imap.UID(uid)), &imap.StoreFlags{Op: op, Silent: true,
			Flags: []imap.Flag{imap.Flag(flag)}}, nil).Close()
	})
	if err != nil {
		return r.red.err(fmt.Errorf("set %s on uid %d in %s: %w", flag, uid, mailbox, err))
	}
	return nil
}

// Moved is where Move put a message.
type Moved struct {
	// UIDValidity and UID name the message in the destination; both are
	// 0 when the server did not say (no UIDPLUS) and a search found
	// nothing.
	UIDValidity, UID uint32
}

// Move moves a message from one mailbox into another: MOVE (RFC 6851)
// when the server has it, else COPY, \Deleted and UID EXPUNGE (UIDPLUS),
// never a plain EXPUNGE. uid 0 means the message is found by its
// Message-ID (the undo of a move on a server that did not report the new
// UID). It fails with ErrNoMessage when the message is not there, with
// ErrLeftDeleted (the copy made, Moved filled) when the server can do
// neither MOVE nor UID EXPUNGE, or with a network or server error.
func (r *Remote) Move(ctx context.Context, from string, uid uint32, messageID, to string) (Moved, error) {
	var mv Moved
	err := r.retry(ctx, from, func() error {
		u := uid
		if u == 0 {
			found, err := r.findUID(messageID)
			if err != nil {
				return err
			}
			u = found
		}
		set := imap.UIDSetNum(imap.UID(u))
		caps := r.c.Caps()
		move := func() (Moved, error) {
			if caps.Has(imap.CapMove) || caps.Has(imap.CapIMAP4rev2) {
				data, err := r.c.Move(set, to).Wait()
				if err != nil {
					return Moved{}, fmt.Errorf("move: %w", err)
				}
				return moved(data.UIDValidity, data.DestUIDs), nil
			}
			return r.copyDelete(set, to, caps.Has(imap.CapUIDPlus))
		}
		var err error
		mv, err = move()
		var ie *imap.Error
		if errors.As(err, &ie) && ie.Code == imap.ResponseCodeTryCreate {
			// The archive folder does not exist yet: created once.
			if cerr := r.c.Create(to, nil).Wait(); cerr != nil {
				return fmt.Errorf("create %s: %w", to, cerr)
			}
			mv, err = move()
		}
		if err != nil {
			return err
		}
		if mv.UID == 0 && messageID != "" {
			// No COPYUID: the destination is searched by Message-ID.
			mv = r.locate(to, messageID)
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrLeftDeleted) {
		return mv, r.red.err(fmt.Errorf("move uid %d from %s to %s: %w", uid, from, to, err))
	}
	return mv, err
}

// copyDelete is Move without MOVE: COPY, then \Deleted, then UID EXPUNGE
// of that one UID when the server has UIDPLUS (else ErrLeftDeleted).
func (r *Remote) copyDelete(set imap.UIDSet, to string, uidplus bool) (Moved, error) {
	data, err := r.c.Copy(set, to).Wait()
	if err != nil {
		return Moved{}, fmt.Errorf("copy: %w", err)
	}
	mv := moved(data.UIDValidity, data.DestUIDs)
	err = r.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()
	if err != nil {
		return mv, fmt.Errorf("store \\Deleted: %w", err)
	}
	if !uidplus {
		return mv, ErrLeftDeleted
	}
	if err := r.c.UIDExpunge(set).Close(); err != nil {
		return mv, fmt.Errorf("uid expunge: %w", err)
	}
	return mv, nil
}

func moved(validity uint32, dest imap.NumSet) Moved {
	set, ok := dest.(imap.UIDSet)
	if !ok {
		return Moved{}
	}
	uids, ok := set.Nums()
	if !ok || len(uids) != 1 {
		return Moved{}
	}
	return Moved{UIDValidity: validity, UID: uint32(uids[0])}
}

// findUID returns the UID of the selected mailbox's message with
// messageID, or ErrNoMessage.
func (r *Remote) findUID(messageID string) (uint32, error) {
	if messageID == "" {
		return 0, ErrNoMessage
	}
	data, err := r.c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{
		{Key: "Message-Id", Value: messageID}}}, nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("search: %w", err)
	}
	uids := data.AllUIDs()
	if len(uids) == 0 {
		return 0, ErrNoMessage
	}
	return uint32(uids[len(uids)-1]), nil
}

// locate selects mailbox and finds the message there; best effort (a
// zero Moved when it cannot). The next command selects its own mailbox.
func (r *Remote) locate(mailbox, messageID string) Moved {
	sel, err := r.c.Select(mailbox, nil).Wait()
	r.selected = ""
	if err != nil {
		return Moved{}
	}
	r.selected = mailbox
	uid, err := r.findUID(messageID)
	if err != nil {
		return Moved{}
	}
	return Moved{UIDValidity: sel.UIDValidity, UID: uid}
}

// retry runs do with mailbox selected read-write, once more on a fresh
// connection when it fails for another reason than a missing message (a
// server's idle timeout leaves a stale connection).
func (r *Remote) retry(ctx context.Context, mailbox string, do func() error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	run := func() error {
		if err := r.selectBox(ctx, mailbox); err != nil {
			return err
		}
		c := r.c
		stop := context.AfterFunc(ctx, func() { c.Close() })
		defer stop()
		return do()
	}
	err := run()
	if err != nil && !errors.Is(err, ErrNoMessage) && !errors.Is(err, ErrLeftDeleted) && ctx.Err() == nil {
		r.drop()
		err = run()
	}
	if err != nil && !errors.Is(err, ErrNoMessage) && !errors.Is(err, ErrLeftDeleted) {
		r.drop()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// selectBox connects when needed and selects mailbox read-write. Called
// with mu held.
func (r *Remote) selectBox(ctx context.Context, mailbox string) error {
	if r.c == nil {
		c, red, err := dialIMAP(ctx, r.Account.IMAP, r.Options)
		r.red = r.red.merge(red)
		if err != nil {
			return err
		}
		r.c, r.selected = c, ""
	}
	if r.selected == mailbox {
		return nil
	}
	c := r.c
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if _, err := r.c.Select(mailbox, nil).Wait(); err != nil {
		r.drop()
		return fmt.Errorf("select %s: %w", mailbox, err)
	}
	r.selected = mailbox
	return nil
}

// drop closes the connection; the next command opens a new one. Called
// with mu held.
func (r *Remote) drop() {
	if r.c != nil {
		r.c.Close()
		r.c, r.selected = nil, ""
	}
}

// Close logs out and closes the connection.
func (r *Remote) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c == nil {
		return nil
	}
	err := r.c.Logout().Wait()
	r.drop()
	if err != nil {
		return r.red.err(fmt.Errorf("logout: %w", err))
	}
	return nil
}
