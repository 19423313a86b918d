package mail

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// The keywords of team mode, set on a shared mailbox so that every
// installation reading it sees what the others decided.
const (
	// KeywordTicket marks an email whose ticket.suggested event one
	// installation claimed (and queued).
	KeywordTicket = "$SmistaTicket"
	// KeywordNotTicket marks an email a person decided is not a ticket.
	KeywordNotTicket = "$SmistaNotTicket"
	// KeywordByPrefix, followed by an installation id, names the
	// installation that claimed the email: after a crash between the claim
	// and the queue, it recognises its own claim.
	KeywordByPrefix = "$SmistaBy_"
)

// ErrNoClaims is returned by Claimer when the server cannot hold a claim:
// no CONDSTORE (RFC 7162) or no user-defined keywords in the mailbox.
// Installations then rely on the webhook-id alone (receivers deduplicate).
var ErrNoClaims = errors.New("the server cannot hold claims (no CONDSTORE or no user-defined keywords)")

// ErrNoMessage is returned by Claim when the UID is not in the mailbox
// (expunged meanwhile).
var ErrNoMessage = errors.New("no such message on the server")

// claimTries bounds the compare-and-set rounds of one claim: each lost
// round means the message changed between FETCH and STORE.
const claimTries = 5

// Claimer claims emails on an account's IMAP server for one installation:
// a keyword stored with UNCHANGEDSINCE (CONDSTORE), so that of several
// installations reading one mailbox exactly one wins. It keeps one
// connection, opened when first needed and reopened after a failure, and
// is safe for concurrent use (claims are serialised).
type Claimer struct {
	Account Account
	// Installation is this store's installation id (db.InstallationID).
	Installation string
	// Options are passed to the IMAP client (tests use a debug writer).
	Options *imapclient.Options

	mu       sync.Mutex
	c        *imapclient.Client
	red      redactor
	selected string
	support  map[string]bool // by mailbox, once probed
}

// mine is this installation's keyword.
func (cl *Claimer) mine() imap.Flag { return imap.Flag(KeywordByPrefix + cl.Installation) }

// Supported reports whether mailbox can hold claims; it fails when the
// server cannot be reached. Its answer is remembered.
func (cl *Claimer) Supported(ctx context.Context, mailbox string) (bool, error) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	err := cl.selectBox(ctx, mailbox)
	if errors.Is(err, ErrNoClaims) {
		return false, nil
	}
	return err == nil, err
}

// Claim claims the message uid of mailbox with keyword (KeywordTicket)
// for this installation. It returns true when this installation holds the
// claim — it set the keyword now, or had set it before — and false when
// another installation did. It fails with ErrNoClaims when the server
// cannot hold claims, ErrNoMessage when the message is gone, or a network
// error (never carrying the password).
func (cl *Claimer) Claim(ctx context.Context, mailbox string, uid uint32, keyword string) (bool, error) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	won, err := cl.claim(ctx, mailbox, uid, imap.Flag(keyword))
	if err != nil && !errors.Is(err, ErrNoClaims) && !errors.Is(err, ErrNoMessage) {
		cl.drop()
	}
	if err != nil && !errors.Is(err, ErrNoClaims) && !errors.Is(err, ErrNoMessage) && ctx.Err() == nil {
		// The connection may have gone stale (a server's idle timeout):
		// one fresh connection, one more try.
		cl.drop()
		won, err = cl.claim(ctx, mailbox, uid, imap.Flag(keyword))
	}
	if err != nil {
		return false, cl.red.err(fmt.Errorf("claim uid %d in %s: %w", uid, mailbox, err))
	}
	return won, nil
}

func (cl *Claimer) claim(ctx context.Context, mailbox string, uid uint32, keyword imap.Flag) (bool, error) {
	if err := cl.selectBox(ctx, mailbox); err != nil {
		return false, err
	}
	stop := cl.closeOnCancel(ctx)
	defer stop()
	set := imap.UIDSetNum(imap.UID(uid))
	for range claimTries {
		// NOOP brings the selected mailbox's view up to date first: a
		// server such as Dovecot may answer FETCH, and judge UNCHANGEDSINCE,
		// from a view that has not yet seen another installation's claim.
		if err := cl.c.Noop().Wait(); err != nil {
			return false, fmt.Errorf("noop: %w", err)
		}
		bufs, err := cl.c.Fetch(set, &imap.FetchOptions{UID: true, Flags: true, ModSeq: true}).Collect()
		if err != nil {
			return false, fmt.Errorf("fetch: %w", err)
		}
		i := slices.IndexFunc(bufs, func(b *imapclient.FetchMessageBuffer) bool { return b.UID == imap.UID(uid) })
		if i < 0 {
			return false, ErrNoMessage
		}
		msg := bufs[i]
		switch {
		case slices.Contains(msg.Flags, cl.mine()):
			return cl.settle(ctx, set, msg.Flags)
		case slices.Contains(msg.Flags, keyword):
			return false, nil
		}
		// Compare and set: the store applies only if nothing changed the
		// message since its MODSEQ was read. The tagged OK's [MODIFIED]
		// code is not reported by the client library, so the next FETCH
		// tells whether this store won: our own keyword is then there.
		err = cl.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{keyword, cl.mine()}},
			&imap.StoreOptions{UnchangedSince: msg.ModSeq}).Close()
		if err != nil {
			return false, fmt.Errorf("store: %w", err)
		}
	}
	return false, fmt.Errorf("the message kept changing during %d claim attempts", claimTries)
}

// claimSettle is how long a claim that found its keyword waits before it
// reads the flags once more (see settle).
const claimSettle = 25 * time.Millisecond

// settle decides a claim whose keyword is on the message. A server should
// have refused every store but one (UNCHANGEDSINCE), but Dovecot has been
// seen to accept two when installations add new keywords to a mailbox at
// the same instant. So the flags are read once more after a pause, and
// when several installations' keywords are there the smallest installation
// id wins: every installation that reads them decides the same.
func (cl *Claimer) settle(ctx context.Context, set imap.UIDSet, flags []imap.Flag) (bool, error) {
	select {
	case <-time.After(claimSettle):
	case <-ctx.Done():
		return false, ctx.Err()
	}
	if err := cl.c.Noop().Wait(); err != nil {
		return false, fmt.Errorf("noop: %w", err)
	}
	bufs, err := cl.c.Fetch(set, &imap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil {
		return false, fmt.Errorf("fetch: %w", err)
	}
	if len(bufs) > 0 {
		flags = bufs[0].Flags
	}
	mine := cl.mine()
	for _, f := range flags {
		if strings.HasPrefix(string(f), KeywordByPrefix) && f != mine && strings.ToLower(string(f)) < strings.ToLower(string(mine)) {
			return false, nil
		}
	}
	return slices.Contains(flags, mine), nil
}

// Mark adds keyword to the message uid of mailbox, unconditionally (a
// person's override: every installation shows it). It fails with
// ErrNoClaims when the mailbox takes no user-defined keywords.
func (cl *Claimer) Mark(ctx context.Context, mailbox string, uid uint32, keyword string) error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if err := cl.selectBox(ctx, mailbox); err != nil {
		return cl.red.err(fmt.Errorf("mark uid %d in %s: %w", uid, mailbox, err))
	}
	stop := cl.closeOnCancel(ctx)
	defer stop()
	flags := []imap.Flag{imap.Flag(keyword)}
	if keyword == KeywordTicket {
		flags = append(flags, cl.mine())
	}
	err := cl.c.Store(imap.UIDSetNum(imap.UID(uid)), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: flags}, nil).Close()
	if err != nil {
		cl.drop()
		return cl.red.err(fmt.Errorf("mark uid %d in %s: %w", uid, mailbox, err))
	}
	return nil
}

// selectBox connects when needed and selects mailbox read-write (a claim
// writes), checking that it can hold claims. Called with mu held.
func (cl *Claimer) selectBox(ctx context.Context, mailbox string) error {
	if ok, probed := cl.support[mailbox]; probed && !ok {
		return ErrNoClaims
	}
	if cl.c == nil {
		c, red, err := dialIMAP(ctx, cl.Account.IMAP, cl.Options)
		cl.red = cl.red.merge(red)
		if err != nil {
			return err
		}
		cl.c, cl.selected = c, ""
	}
	if cl.selected == mailbox {
		return nil
	}
	condstore := cl.c.Caps().Has(imap.CapCondStore)
	stop := cl.closeOnCancel(ctx)
	defer stop()
	sel, err := cl.c.Select(mailbox, &imap.SelectOptions{CondStore: condstore}).Wait()
	if err != nil {
		cl.drop()
		return fmt.Errorf("select %s: %w", mailbox, err)
	}
	ok := condstore && sel.HighestModSeq != 0 && slices.Contains(sel.PermanentFlags, imap.FlagWildcard)
	if cl.support == nil {
		cl.support = map[string]bool{}
	}
	cl.support[mailbox] = ok
	if !ok {
		return ErrNoClaims
	}
	cl.selected = mailbox
	return nil
}

// closeOnCancel closes the connection (not the Claimer's fields, which
// belong to the goroutine holding mu) when ctx ends, unblocking a command.
func (cl *Claimer) closeOnCancel(ctx context.Context) func() bool {
	c := cl.c
	return context.AfterFunc(ctx, func() { c.Close() })
}

// drop closes the connection; the next call opens a new one. Called with
// mu held.
func (cl *Claimer) drop() {
	if cl.c != nil {
		cl.c.Close()
		cl.c, cl.selected = nil, ""
	}
}

// Close logs out and closes the connection.
func (cl *Claimer) Close() error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.c == nil {
		return nil
	}
	err := cl.c.Logout().Wait()
	cl.drop()
	if err != nil {
		return cl.red.err(fmt.Errorf("claim logout: %w", err))
	}
	return nil
}
