package mail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// ErrNoUIDValidity is returned when a server's SELECT carries no
// UIDVALIDITY: without it, stored UIDs cannot be trusted across sessions.
var ErrNoUIDValidity = errors.New("server sent no UIDVALIDITY")

// MailboxState is the stored sync state of one (account, mailbox).
type MailboxState struct {
	ID            int64
	UIDValidity   uint32
	UIDNext       uint32
	HighestModSeq uint64
	// Known is how many UIDs the store holds for this mailbox.
	Known int
}

// SyncedMessage is a fetched message and where it lives on the server.
type SyncedMessage struct {
	UID     uint32
	Flags   []string
	ModSeq  uint64
	Message *Message
	// Packed is the raw mail as the store keeps it, when the store is a
	// RawPacker (nil otherwise).
	Packed *Packed
}

// Packed is a message's raw mail in the form its store keeps (compressed),
// made ahead by a store that implements RawPacker.
type Packed struct {
	Data  []byte
	Codec int // the store's own label for Data's encoding
}

// RawPacker is implemented by a SyncStore that keeps the raw mail in a
// form of its own: the Syncer calls PackRaw on the goroutines that parse,
// so that this CPU work stays off the store's one writer.
type RawPacker interface {
	PackRaw(raw []byte) (*Packed, error)
}

// FlagUpdate is a changed flag set of a stored UID.
type FlagUpdate struct {
	UID    uint32
	Flags  []string
	ModSeq uint64
}

// SyncBatch is what one store transaction applies: new messages with their
// locations, flag changes, expunged UIDs, then the new mailbox state. A
// crash after the commit resumes from State; before it, nothing changed.
type SyncBatch struct {
	MailboxID int64
	// Source labels inserted messages ("imap:work/INBOX").
	Source   string
	Messages []SyncedMessage
	Flags    []FlagUpdate
	Removed  []uint32
	// State is written last; zero UIDNext/HighestModSeq leave the stored
	// values as they are.
	UIDNext       uint32
	HighestModSeq uint64
}

// SyncStore is what Sync needs from the store (db implements it).
type SyncStore interface {
	// OpenMailbox returns the state of (account, mailbox), creating both
	// rows when missing.
	OpenMailbox(ctx context.Context, account, mailbox string) (MailboxState, error)
	// ResetMailbox drops every location of the mailbox and records the new
	// UIDVALIDITY with uidnext and highestmodseq cleared. Messages stay.
	ResetMailbox(ctx context.Context, mailboxID int64, uidValidity uint32) error
	// MailboxUIDs returns the stored UIDs of the mailbox, ascending.
	MailboxUIDs(ctx context.Context, mailboxID int64) ([]uint32, error)
	// ApplySync applies b in one transaction.
	ApplySync(ctx context.Context, b SyncBatch) (Applied, error)
}

// Applied is what ApplySync changed.
type Applied struct {
	// New are the email ids of messages inserted (not already stored).
	New []string
	// FlagChanges counts locations whose flags differed from the batch's.
	FlagChanges int
}

// Progress reports sync progress: Done of Total messages fetched in Mailbox.
type Progress struct {
	Account string
	Mailbox string
	Done    int
	Total   int
}

// SyncResult summarises one mailbox's sync.
type SyncResult struct {
	Mailbox string
	// New are the email ids inserted by this sync (not seen before anywhere).
	New []string
	// Fetched counts bodies downloaded (new UIDs, including mail already
	// stored from another mailbox or an earlier UIDVALIDITY).
	Fetched int
	// Removed counts locations dropped because the server expunged them.
	Removed int
	// FlagChanges counts stored UIDs whose flags changed on the server.
	FlagChanges int
	// FlagsFetched counts the flag sets the server sent: every kept UID
	// without CONDSTORE, only the changed ones with CHANGEDSINCE.
	FlagsFetched int
	// Reset is true when UIDVALIDITY changed and the mailbox was resynced.
	Reset bool
	// Unparseable counts messages stored with a fallback because Parse failed.
	Unparseable int
}

// Syncer downloads an account's mailboxes into a SyncStore.
type Syncer struct {
	Store   SyncStore
	Account Account
	// Parse turns a raw message into a Message: mail.ParseHeader when the
	// store keeps the raw mail and the body is read from it later, or
	// mail.Parse.
	Parse func(raw []byte) (*Message, error)
	// BatchSize is how many messages one store transaction carries at
	// most (and 2 MiB of raw mail); 0 means 256.
	BatchSize int
	// Stored, when set, receives the messages each committed batch
	// inserted (not those already stored), in UID order, on the goroutine
	// that stores: it may hand them on (to triage) but not keep the
	// Syncer waiting long, as the next batches wait behind it.
	Stored func(msgs []*Message)
	// Progress, when set, is called after every stored batch.
	Progress func(Progress)
	// Logf, when set, receives non-fatal problems (never secrets: each
	// line is formatted and redacted first, then passed as "%s").
	Logf func(format string, args ...any)
	// Options are passed to the IMAP client (tests use a debug writer).
	Options *imapclient.Options

	// red redacts the secrets of every login so far from the errors and
	// log lines that leave the Syncer.
	redMu sync.Mutex
	red   redactor
}

func (s *Syncer) logf(format string, args ...any) {
	if s.Logf != nil {
		s.redMu.Lock()
		red := s.red
		s.redMu.Unlock()
		s.Logf("%s", red.string(fmt.Sprintf(format, args...)))
	}
}

// redact is the Syncer's one exit for errors that may carry a server's
// words.
func (s *Syncer) redact(err error) error {
	s.redMu.Lock()
	defer s.redMu.Unlock()
	return s.red.err(err)
}

// dial connects and logs in with opts, remembering the secret it used.
func (s *Syncer) dial(ctx context.Context, opts *imapclient.Options) (*imapclient.Client, error) {
	c, red, err := dialIMAP(ctx, s.Account.IMAP, opts)
	s.redMu.Lock()
	s.red = s.red.merge(red)
	s.redMu.Unlock()
	return c, s.redact(err)
}

func (s *Syncer) batchSize() int {
	if s.BatchSize > 0 {
		return s.BatchSize
	}
	return 256
}

// Dial connects and logs in to the account's IMAP server. Its errors, and
// those of Sync and SyncMailbox after it, never carry the password.
func (s *Syncer) Dial(ctx context.Context) (*imapclient.Client, error) {
	return s.dial(ctx, s.Options)
}

// Sync connects, syncs every configured mailbox and logs out. It returns
// the per-mailbox results so far and the first error; mailboxes after a
// failed one are not attempted (the connection is likely gone).
func (s *Syncer) Sync(ctx context.Context) ([]SyncResult, error) {
	c, err := s.Dial(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var out []SyncResult
	for _, mb := range s.Account.SyncMailboxes() {
		r, err := s.SyncMailbox(ctx, c, mb)
		out = append(out, r)
		if err != nil {
			return out, err
		}
	}
	if err := c.Logout().Wait(); err != nil {
		s.logf("imap logout: %v", err)
	}
	return out, nil
}

// SyncMailbox brings one mailbox up to date over an open connection:
// UIDVALIDITY check, expunges (UID comparison), flag changes (CONDSTORE
// CHANGEDSINCE when available, else all flags), then new messages fetched
// with BODY.PEEK[] in batches, each stored with its state in one
// transaction so an interrupted sync resumes without loss or duplicates.
// Its steps (select, UID diff, flags, fetch, store) share the mailbox
// state; each is one call below, kept in order here to read as the protocol.
func (s *Syncer) SyncMailbox(ctx context.Context, c *imapclient.Client, mailbox string) (SyncResult, error) {
	res := SyncResult{Mailbox: mailbox}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	wrap := func(err error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("sync %s: %w", mailbox, ctx.Err())
		}
		return s.redact(fmt.Errorf("sync %s: %w", mailbox, err))
	}

	st, err := s.Store.OpenMailbox(ctx, s.Account.Name, mailbox)
	if err != nil {
		return res, wrap(err)
	}
	condstore := c.Caps().Has(imap.CapCondStore)
	sel, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true, CondStore: condstore}).Wait()
	if err != nil {
		return res, wrap(err)
	}
	if sel.UIDValidity == 0 {
		return res, wrap(ErrNoUIDValidity)
	}
	if sel.HighestModSeq == 0 {
		condstore = false // e.g. NOMODSEQ mailboxes
	}
	if st.UIDValidity != sel.UIDValidity {
		if st.UIDValidity != 0 {
			res.Reset = true
			s.logf("%s: UIDVALIDITY changed (%d → %d): resyncing", mailbox, st.UIDValidity, sel.UIDValidity)
		}
		if err := s.Store.ResetMailbox(ctx, st.ID, sel.UIDValidity); err != nil {
			return res, wrap(err)
		}
		st = MailboxState{ID: st.ID, UIDValidity: sel.UIDValidity}
	}

	var known []uint32
	if st.Known > 0 {
		if known, err = s.Store.MailboxUIDs(ctx, st.ID); err != nil {
			return res, wrap(err)
		}
	}

	// Fast path: nothing appended and nothing expunged (same UIDNEXT, same
	// count) means the stored UID set is the server's.
	unchanged := st.UIDNext != 0 && uint32(sel.UIDNext) == st.UIDNext && int(sel.NumMessages) == len(known)
	var serverUIDs []uint32
	if !unchanged && sel.NumMessages > 0 {
		data, err := c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
		if err != nil {
			return res, wrap(err)
		}
		for _, u := range data.AllUIDs() {
			serverUIDs = append(serverUIDs, uint32(u))
		}
		slices.Sort(serverUIDs)
	}

	var removed, fresh []uint32
	if unchanged {
		// nothing to compare
	} else {
		removed = minus(known, serverUIDs)
		fresh = minus(serverUIDs, known)
	}

	// Flags of the UIDs we keep.
	var flags []FlagUpdate
	keep := len(known) - len(removed)
	switch {
	case keep == 0:
	case condstore && st.HighestModSeq != 0:
		if sel.HighestModSeq != st.HighestModSeq {
			flags, err = fetchFlags(c, known, st.HighestModSeq)
		}
	default:
		flags, err = fetchFlags(c, known, 0)
	}
	if err != nil {
		return res, wrap(err)
	}
	flags = slices.DeleteFunc(flags, func(f FlagUpdate) bool {
		_, found := slices.BinarySearch(removed, f.UID)
		return found
	})
	res.Removed = len(removed)
	res.FlagsFetched = len(flags)

	source := "imap:" + s.Account.Name + "/" + mailbox
	var highest uint64
	if condstore {
		highest = sel.HighestModSeq
	}
	if len(fresh) == 0 {
		ap, err := s.Store.ApplySync(ctx, SyncBatch{MailboxID: st.ID, Source: source, Flags: flags,
			Removed: removed, UIDNext: uint32(sel.UIDNext), HighestModSeq: highest})
		if err != nil {
			return res, wrap(err)
		}
		res.FlagChanges = ap.FlagChanges
		s.progress(mailbox, 0, 0)
		return res, nil
	}
	// Expunges and flag changes go in with the first batch.
	s.progress(mailbox, 0, len(fresh))
	job := download{mailbox: mailbox, fresh: fresh, condstore: condstore,
		first:   SyncBatch{MailboxID: st.ID, Source: source, Flags: flags, Removed: removed},
		uidNext: uint32(sel.UIDNext), highest: highest}
	if err := s.download(ctx, c, job, &res); err != nil {
		return res, wrap(err)
	}
	return res, nil
}

func (s *Syncer) progress(mailbox string, done, total int) {
	if s.Progress != nil {
		s.Progress(Progress{Account: s.Account.Name, Mailbox: mailbox, Done: done, Total: total})
	}
}

// fetchFlags returns the flags of uids (all of them, or those changed since
// modseq when non-zero: CONDSTORE CHANGEDSINCE).
func fetchFlags(c *imapclient.Client, uids []uint32, changedSince uint64) ([]FlagUpdate, error) {
	if len(uids) == 0 {
		return nil, nil
	}
	var set imap.UIDSet
	set.AddRange(imap.UID(uids[0]), imap.UID(uids[len(uids)-1]))
	opts := &imap.FetchOptions{UID: true, Flags: true}
	if changedSince != 0 {
		opts.ModSeq = true
		opts.ChangedSince = changedSince
	}
	bufs, err := c.Fetch(set, opts).Collect()
	if err != nil {
		return nil, fmt.Errorf("fetch flags: %w", err)
	}
	out := make([]FlagUpdate, 0, len(bufs))
	for _, b := range bufs {
		if b.UID == 0 {
			continue
		}
		if _, ok := slices.BinarySearch(uids, uint32(b.UID)); !ok {
			continue // a new UID: its flags come with its body
		}
		out = append(out, FlagUpdate{UID: uint32(b.UID), Flags: flagStrings(b.Flags), ModSeq: b.ModSeq})
	}
	return out, nil
}

// fallbackMessage stores raw bytes Parse could not read, under a Message-ID
// derived from their hash so a resync maps to the same row.
func fallbackMessage(raw []byte) *Message {
	sum := sha256.Sum256(raw)
	mid := "<" + hex.EncodeToString(sum[:16]) + "@unparseable.smista.invalid>"
	return &Message{
		ID: EmailID(mid), MessageID: mid, ThreadID: EmailID(mid),
		Subject: "(unparseable message)", DateFallback: true, Raw: raw,
		Header: map[string][]string{},
	}
}

func flagStrings(fs []imap.Flag) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	slices.Sort(out)
	return out
}

// minus returns the elements of a not in b; both ascending.
func minus(a, b []uint32) []uint32 {
	var out []uint32
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j < len(b) && b[j] == x {
			continue
		}
		out = append(out, x)
	}
	return out
}
