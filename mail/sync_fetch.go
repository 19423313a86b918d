package mail

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

const (
	// fetchRanges bounds the UID ranges of one FETCH command, and so the
	// length of its command line (servers cap it, Dovecot at 64 KiB): a
	// mailbox with few holes is fetched with one command, whatever its
	// size.
	fetchRanges = 1000
	// maxBatchBytes closes a store batch early when its raw mail reaches
	// this size: a batch of large mails must not hold memory unbounded.
	maxBatchBytes = 2 << 20
)

// rawMessage is one fetched message before parsing.
type rawMessage struct {
	uid      uint32
	flags    []string
	modseq   uint64
	internal time.Time // INTERNALDATE: the date of a mail whose Date header is bad
	raw      []byte
}

// download is the fetch of a mailbox's new messages.
type download struct {
	mailbox   string
	fresh     []uint32 // ascending
	condstore bool
	// first is the batch the first stored messages join (the flag changes
	// and expunges found before the fetch).
	first SyncBatch
	// uidNext and highest are the mailbox state once every message is in.
	uidNext uint32
	highest uint64
}

// download fetches, parses and stores the new messages as a pipeline: one
// goroutine streams the FETCH responses (one command for as many messages
// as its command line can name) into batches; the batches are parsed on every core; the calling
// goroutine stores them in order, one transaction each, while the next
// ones are fetched and parsed. At most one batch waits between two
// stages, so memory does not grow with the mailbox. When the fetch fails
// (a dropped connection), every batch read before is still stored; when
// the store fails, the fetch stops. On failure the connection is closed:
// a half-read FETCH leaves it unusable.
func (s *Syncer) download(ctx context.Context, c *imapclient.Client, job download, res *SyncResult) error {
	if s.Parse == nil {
		return fmt.Errorf("no message parser configured")
	}
	fctx, stopFetch := context.WithCancel(ctx)
	defer stopFetch()
	// One batch may wait between two stages: a stage rarely waits for
	// the next, and at most five batches (of 2 MiB at most) are held.
	raws := make(chan []rawMessage, 1)
	parsed := make(chan []SyncedMessage, 1)
	var fetchErr, parseErr error
	var bad int
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(raws)
		fetchErr = s.fetchAll(fctx, c, job, raws)
	})
	wg.Go(func() {
		defer close(parsed)
		for b := range raws {
			msgs, n, err := s.parseBatch(b)
			if err != nil {
				parseErr = err
				stopFetch()
				continue // drain raws: the fetch stops at its next batch
			}
			bad += n
			select {
			case parsed <- msgs:
			case <-fctx.Done():
			}
		}
	})
	// parsed closes only after the fetch returned and the last batch was
	// parsed: storeAll reads their errors once it has stored every batch.
	err := s.storeAll(ctx, job, parsed, res, func() error { return cmp.Or(parseErr, fetchErr) })
	if err != nil {
		stopFetch()
		c.Close()
		for range parsed {
		}
	}
	wg.Wait()
	res.Unparseable += bad
	return err
}

// fetchAll sends FETCH commands for job.fresh, one after the other, and
// groups the messages into batches on out. Commands are never pipelined:
// a server may answer two FETCH commands interleaved, and imapclient hands
// each response to its command, whose reader must be the one waiting.
func (s *Syncer) fetchAll(ctx context.Context, c *imapclient.Client, job download, out chan<- []rawMessage) error {
	section := &imap.FetchItemBodySection{Peek: true}
	opts := &imap.FetchOptions{UID: true, Flags: true, InternalDate: true,
		BodySection: []*imap.FetchItemBodySection{section}, ModSeq: job.condstore}
	n := s.batchSize()
	batch, size := make([]rawMessage, 0, n), 0
	send := func() error {
		if len(batch) == 0 {
			return nil
		}
		select {
		case out <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
		batch, size = make([]rawMessage, 0, n), 0
		return nil
	}
	for _, set := range uidChunks(job.fresh, fetchRanges) {
		// Streamed rather than Collect()ed: when the connection dies
		// inside a literal, imapclient's Collect re-reads the failed
		// literal while its reader goroutine resumes (a data race in
		// go-imap v2 beta.8). Here a failed literal closes the connection
		// and the command is abandoned.
		cmd := c.Fetch(set, opts)
		for {
			msg := cmd.Next()
			if msg == nil {
				break
			}
			rm, err := readFetched(msg)
			if err != nil {
				c.Close()
				return err
			}
			if rm.uid == 0 || rm.raw == nil {
				continue
			}
			batch = append(batch, rm)
			if size += len(rm.raw); len(batch) == n || size >= maxBatchBytes {
				if err := send(); err != nil {
					return err
				}
			}
		}
		if err := cmd.Close(); err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
	}
	return send()
}

// uidChunks splits ascending uids into sets of at most maxRanges ranges.
func uidChunks(uids []uint32, maxRanges int) []imap.UIDSet {
	var out []imap.UIDSet
	var set imap.UIDSet
	for i, u := range uids {
		if i > 0 && u != uids[i-1]+1 && len(set) == maxRanges {
			out, set = append(out, set), nil
		}
		set.AddNum(imap.UID(u))
	}
	if len(set) > 0 {
		out = append(out, set)
	}
	return out
}

// readFetched reads one FETCH response.
func readFetched(msg *imapclient.FetchMessageData) (rawMessage, error) {
	var rm rawMessage
	for {
		item := msg.Next()
		if item == nil {
			return rm, nil
		}
		switch it := item.(type) {
		case imapclient.FetchItemDataUID:
			rm.uid = uint32(it.UID)
		case imapclient.FetchItemDataFlags:
			rm.flags = flagStrings(it.Flags)
		case imapclient.FetchItemDataModSeq:
			rm.modseq = it.ModSeq
		case imapclient.FetchItemDataInternalDate:
			rm.internal = it.Time
		case imapclient.FetchItemDataBodySection:
			if it.Literal == nil {
				continue
			}
			b := make([]byte, it.Literal.Size())
			if _, err := io.ReadFull(it.Literal, b); err != nil {
				// The connection ended inside the literal: never store a
				// truncated message.
				return rm, fmt.Errorf("fetch: %w", err)
			}
			rm.raw = b
		}
	}
}

// parseBatch parses b on every core, and packs the raw mail when the store
// is a RawPacker. A message Parse rejects is kept with a fallback so
// nothing is lost; bad counts those.
func (s *Syncer) parseBatch(b []rawMessage) ([]SyncedMessage, int, error) {
	out := make([]SyncedMessage, len(b))
	packer, _ := s.Store.(RawPacker)
	var bad atomic.Int64
	var packErr atomic.Pointer[error]
	workers := min(runtime.GOMAXPROCS(0), len(b))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(b); i += workers {
				rm := b[i]
				m, err := s.Parse(rm.raw)
				if err != nil || m == nil {
					bad.Add(1)
					s.logf("uid %d: unparseable message kept raw: %v", rm.uid, err)
					m = fallbackMessage(rm.raw)
				}
				m.UseInternalDate(rm.internal)
				out[i] = SyncedMessage{UID: rm.uid, Flags: rm.flags, ModSeq: rm.modseq, Message: m}
				if packer != nil {
					p, err := packer.PackRaw(rm.raw)
					if err != nil {
						packErr.Store(&err)
					}
					out[i].Packed = p
				}
			}
		})
	}
	wg.Wait()
	if err := packErr.Load(); err != nil {
		return nil, 0, *err
	}
	slices.SortFunc(out, func(a, b SyncedMessage) int { return int(a.UID) - int(b.UID) })
	return out, int(bad.Load()), nil
}

// storeAll stores the parsed batches in order, each with the mailbox
// state it proves, then — when the fetch, which fetchErr reports once in
// is closed, succeeded — the final state.
func (s *Syncer) storeAll(ctx context.Context, job download, in <-chan []SyncedMessage, res *SyncResult, fetchErr func() error) error {
	next := uidPrefix{uids: job.fresh, stored: make([]bool, len(job.fresh))}
	b := job.first
	total := len(job.fresh)
	for msgs := range in {
		b.Messages = msgs
		for _, m := range msgs {
			next.store(m.UID)
		}
		// Every fresh UID below the first one not yet stored is in: a
		// resume starts there. HIGHESTMODSEQ waits for the last batch:
		// recording it earlier could skip flag changes of messages not
		// yet fetched.
		b.UIDNext = next.first()
		ap, err := s.Store.ApplySync(ctx, b)
		if err != nil {
			return err
		}
		res.New = append(res.New, ap.New...)
		res.FlagChanges += ap.FlagChanges
		res.Fetched += len(msgs)
		s.stored(msgs, ap.New)
		s.progress(job.mailbox, min(res.Fetched, total), total)
		b = SyncBatch{MailboxID: job.first.MailboxID, Source: job.first.Source}
	}
	if err := fetchErr(); err != nil {
		return err
	}
	// The final state (and, when the server returned none of the
	// messages, the flag changes and expunges).
	b.UIDNext, b.HighestModSeq = job.uidNext, job.highest
	ap, err := s.Store.ApplySync(ctx, b)
	if err != nil {
		return err
	}
	res.FlagChanges += ap.FlagChanges
	return nil
}

// stored hands the messages inserted (ids, in order, a subsequence of
// msgs) to Stored.
func (s *Syncer) stored(msgs []SyncedMessage, ids []string) {
	if s.Stored == nil || len(ids) == 0 {
		return
	}
	out := make([]*Message, 0, len(ids))
	j := 0
	for _, sm := range msgs {
		if j < len(ids) && sm.Message.StableID() == ids[j] {
			out = append(out, sm.Message)
			j++
		}
	}
	s.Stored(out)
}

// uidPrefix tracks which of an ascending UID list are stored.
type uidPrefix struct {
	uids   []uint32
	stored []bool
	done   int // uids[:done] are all stored
}

func (p *uidPrefix) store(uid uint32) {
	if i, ok := slices.BinarySearch(p.uids, uid); ok {
		p.stored[i] = true
	}
	for p.done < len(p.uids) && p.stored[p.done] {
		p.done++
	}
}

// first returns the first UID not stored yet, or 0 (keep the stored
// UIDNEXT) when all are.
func (p *uidPrefix) first() uint32 {
	if p.done < len(p.uids) {
		return p.uids[p.done]
	}
	return 0
}
