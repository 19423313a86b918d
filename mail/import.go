package mail

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
)

// WalkFunc is called by Walk for each message found. src says where the
// message is: a file path, or "PATH (message N at byte OFFSET)" inside an
// mbox. When err is non-nil the message could not be read and raw is nil.
// A non-nil return stops the walk and is returned by Walk.
type WalkFunc func(src string, raw []byte, err error) error

// Walk finds the messages at path and passes each to fn, in a stable order:
// a Maildir (cur and new; tmp ignored; Maildir++ subfolders included), an
// mbox file (recognised by its content: an envelope "From " line followed
// by a header), a single message file (.eml or any raw message), or a
// directory, walked recursively for all of those (hidden entries and *.json
// files are skipped). It returns an error only when path itself cannot be
// read or fn stops the walk; unreadable files inside are reported to fn.
func Walk(ctx context.Context, path string, fn WalkFunc) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("open mail source: %w", err)
	}
	if !fi.IsDir() {
		return walkFile(ctx, path, fn)
	}
	if isMaildir(path) {
		return walkMaildir(ctx, path, fn)
	}
	return filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == path {
				return fmt.Errorf("open mail source: %w", err)
			}
			return fn(p, nil, err)
		}
		if p == path {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if isMaildir(p) {
				if err := walkMaildir(ctx, p, fn); err != nil {
					return err
				}
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.EqualFold(filepath.Ext(p), ".json") {
			return nil
		}
		return walkFile(ctx, p, fn)
	})
}

// walkFile passes the messages of one file: an mbox, or a single message.
// Files up to MaxMessageBytes are read whole (their messages are slices of
// the file); bigger ones are streamed when they are mboxes and reported as
// too large otherwise.
func walkFile(ctx context.Context, p string, fn WalkFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.Open(p)
	if err != nil {
		return fn(p, nil, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fn(p, nil, err)
	}
	maybeMbox := !strings.EqualFold(filepath.Ext(p), ".eml")
	if fi.Size() <= MaxMessageBytes {
		data := make([]byte, fi.Size())
		if _, err := io.ReadFull(f, data); err != nil {
			return fn(p, nil, err)
		}
		if maybeMbox && looksLikeMbox(data[:min(len(data), 4096)]) {
			return walkMbox(ctx, p, &byteLines{data: data}, fn)
		}
		return fn(p, data, nil)
	}
	br := bufio.NewReaderSize(f, 256<<10)
	head, _ := br.Peek(4096)
	if maybeMbox && looksLikeMbox(head) {
		return walkMbox(ctx, p, &readerLines{br: br}, fn)
	}
	return fn(p, nil, ErrTooLarge)
}

// Store receives parsed messages; *db.DB implements it. SaveMessages
// stores msgs in one transaction, skipping those already stored, and
// returns the ids it inserted. Import hands it messages with their header
// fields and raw mail only (ParseHeader): the store keeps the raw mail and
// reads the body from it (FillBody).
type Store interface {
	SaveMessages(ctx context.Context, source string, msgs []*Message) ([]string, error)
}

// ImportOptions tunes Import; the zero value is ready to use.
type ImportOptions struct {
	// BatchSize is how many messages go in one transaction (default 500).
	BatchSize int
	// Workers is how many goroutines parse (default GOMAXPROCS).
	Workers int
	// OnFailure is called (never concurrently) for each message that
	// could not be read or parsed; it is skipped and the import goes on.
	OnFailure func(src string, err error)
	// OnProgress is called after each stored batch with the running totals.
	OnProgress func(ImportStats)
}

// ImportStats counts what Import did.
type ImportStats struct {
	// New messages were stored; Present were already in the store (or
	// twice in the input); Failed could not be read or parsed; Unstored
	// were read and parsed but not stored because the store failed (a full
	// disk), which stopped the import.
	New, Present, Failed, Unstored int
}

// Total is the number of messages Import saw.
func (s ImportStats) Total() int { return s.New + s.Present + s.Failed + s.Unstored }

// item is one message on its way from Walk to the store.
type item struct {
	src string
	raw []byte
	err error
	msg *Message
}

// Import walks each path (see Walk), parses every message and stores them
// in batches with source "import:PATH". Re-importing adds nothing: a
// message's id is its email id. A message that cannot be read or parsed is
// reported to OnFailure and skipped. Import returns the totals and an error
// joining every path that could not be read; a store error stops it.
func Import(ctx context.Context, store Store, paths []string, opts ImportOptions) (ImportStats, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	var stats ImportStats
	var pathErrs []error
	for _, p := range paths {
		err := importPath(ctx, store, p, opts, &stats)
		var se storeError
		switch {
		case err == nil:
		case errors.As(err, &se), ctx.Err() != nil:
			return stats, err
		default:
			pathErrs = append(pathErrs, err)
		}
	}
	return stats, errors.Join(pathErrs...)
}

// storeError marks a failure of the store, which stops the import.
type storeError struct{ err error }

func (e storeError) Error() string { return e.err.Error() }
func (e storeError) Unwrap() error { return e.err }

// importPath runs one path through a two-stage pipeline: the walker reads
// and parses a batch (in parallel) while the previous batch is stored.
func importPath(ctx context.Context, store Store, path string, opts ImportOptions, stats *ImportStats) error {
	g, gctx := errgroup.WithContext(ctx)
	batches := make(chan []item, 1)
	g.Go(func() error {
		defer close(batches)
		batch := make([]item, 0, opts.BatchSize)
		send := func() error {
			if len(batch) == 0 {
				return nil
			}
			parseBatch(batch, opts.Workers)
			select {
			case batches <- batch:
			case <-gctx.Done():
				return gctx.Err()
			}
			batch = make([]item, 0, opts.BatchSize)
			return nil
		}
		err := Walk(gctx, path, func(src string, raw []byte, err error) error {
			batch = append(batch, item{src: src, raw: raw, err: err})
			if len(batch) >= opts.BatchSize {
				return send()
			}
			return nil
		})
		if err != nil {
			return err
		}
		return send()
	})
	g.Go(func() error {
		source := "import:" + path
		msgs := make([]*Message, 0, opts.BatchSize)
		for batch := range batches {
			msgs = msgs[:0]
			for _, it := range batch {
				if it.err != nil {
					stats.Failed++
					if opts.OnFailure != nil {
						opts.OnFailure(it.src, it.err)
					}
					continue
				}
				msgs = append(msgs, it.msg)
			}
			if len(msgs) > 0 {
				added, err := store.SaveMessages(gctx, source, msgs)
				if err != nil {
					stats.Unstored += len(msgs)
					return storeError{fmt.Errorf("import %s: %w", path, err)}
				}
				stats.New += len(added)
				stats.Present += len(msgs) - len(added)
			}
			if opts.OnProgress != nil {
				opts.OnProgress(*stats)
			}
		}
		return nil
	})
	return g.Wait()
}

// parseBatch parses the items in place with the given number of workers.
func parseBatch(batch []item, workers int) {
	var wg sync.WaitGroup
	for w := range min(workers, len(batch)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(batch); i += workers {
				it := &batch[i]
				if it.err != nil {
					continue
				}
				// The header fields only: the store keeps the raw mail,
				// and its body is parsed when it is read.
				m, err := ParseHeader(it.raw)
				if err != nil {
					it.err = err
					continue
				}
				it.msg = m
			}
		}()
	}
	wg.Wait()
}
