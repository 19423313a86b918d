package mail

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
)

// ErrTooLarge is reported for a message bigger than MaxMessageBytes; it is
// skipped, the rest of its source still imports.
var ErrTooLarge = errors.New("message larger than 64 MiB")

// MaxMessageBytes is the largest message Walk reads.
const MaxMessageBytes = 64 << 20

// isFromLine reports whether line is an mbox "From " separator line:
// "From sender date", where the sender has an @ or the line carries a time.
// A body line like "From my experience..." has neither.
func isFromLine(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("From ")) {
		return false
	}
	rest := bytes.TrimLeft(line[5:], " ")
	sender := rest
	if i := bytes.IndexAny(rest, " \t"); i >= 0 {
		sender = rest[:i]
	}
	if len(sender) == 0 {
		return false
	}
	if bytes.IndexByte(sender, '@') >= 0 || bytes.Equal(sender, []byte("MAILER-DAEMON")) {
		return true
	}
	for i := 0; i+3 < len(rest); i++ {
		if isDigit(rest[i]) && rest[i+1] == ':' && isDigit(rest[i+2]) && isDigit(rest[i+3]) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// looksLikeMbox reports whether the start of a file is an mbox: an
// envelope "From " line followed by a header field.
func looksLikeMbox(head []byte) bool {
	head = bytes.TrimLeft(head, "\r\n")
	line, rest := nextLine(head)
	if !isFromLine(line) {
		return false
	}
	next, _ := nextLine(rest)
	_, _, ok := headerLine(next)
	return ok
}

// lineSource yields an mbox's lines, each with its line ending; at the end
// it returns io.EOF (with the last line when it has no line ending).
type lineSource interface {
	readLine() ([]byte, error)
}

// byteLines reads lines from a file held in memory; messages are then
// slices of data, not copies.
type byteLines struct {
	data []byte
	off  int
}

func (l *byteLines) readLine() ([]byte, error) {
	rest := l.data[l.off:]
	if len(rest) == 0 {
		return nil, io.EOF
	}
	i := bytes.IndexByte(rest, '\n')
	if i < 0 {
		l.off = len(l.data)
		return rest, io.EOF
	}
	l.off += i + 1
	return rest[:i+1], nil
}

// readerLines reads lines from a file too big to hold in memory. A line
// longer than MaxMessageBytes is cut (its message is then too large).
type readerLines struct {
	br   *bufio.Reader
	line []byte
}

func (l *readerLines) readLine() ([]byte, error) {
	l.line = l.line[:0]
	for {
		chunk, err := l.br.ReadSlice('\n')
		if len(l.line) <= MaxMessageBytes {
			l.line = append(l.line, chunk...)
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return l.line, err
		}
	}
}

// walkMbox splits an mbox at "From " lines that follow a blank line,
// undoing the ">From " quoting (mboxrd: one ">" is removed from any
// ">...>From " line). Each message is passed to fn with src
// "path (message N at byte OFFSET)". A message read from memory is a slice
// of it unless a quoted line had to be rewritten.
// It is one read loop whose line state (blank line, escaped From) would
// have to be threaded through any helper split out of it.
func walkMbox(ctx context.Context, path string, src lineSource, fn WalkFunc) error {
	mem, _ := src.(*byteLines)
	var (
		cur       []byte // the message, when it is copied
		copied    bool   // cur holds the message (always, when streaming)
		off       int64  // offset of the next line
		start     int64  // offset of the current message's From line
		body0     int64  // offset of the current message's first line
		n         int    // messages seen
		prevBlank = true
		inMsg     bool
		tooLarge  bool
	)
	emit := func(end int64) error {
		if !inMsg {
			return nil
		}
		n++
		src := fmt.Sprintf("%s (message %d at byte %d)", path, n, start)
		if tooLarge {
			return fn(src, nil, ErrTooLarge)
		}
		msg := cur
		if !copied {
			msg = mem.data[body0:end:end]
		}
		// The blank line before the next "From " is the separator.
		if bytes.HasSuffix(msg, []byte("\r\n")) {
			msg = msg[:len(msg)-2]
		} else if bytes.HasSuffix(msg, []byte("\n")) {
			msg = msg[:len(msg)-1]
		}
		return fn(src, msg, nil)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := src.readLine()
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read %s: %w", path, err)
		}
		if len(line) == 0 && err != nil {
			return emit(off)
		}
		lineStart := off
		off += int64(len(line))
		body := bytes.TrimRight(line, "\r\n")
		if prevBlank && isFromLine(body) {
			if err := emit(lineStart); err != nil {
				return err
			}
			// cur was handed over with the message: start a new one.
			inMsg, tooLarge, start, body0 = true, false, lineStart, off
			cur, copied = nil, mem == nil
			prevBlank = false
			if err != nil {
				return emit(off)
			}
			continue
		}
		prevBlank = len(body) == 0
		if inMsg {
			quoted := isQuotedFrom(body)
			if quoted && !copied {
				cur = append([]byte(nil), mem.data[body0:lineStart]...)
				copied = true
			}
			if quoted {
				line = line[1:]
			}
			if copied && !tooLarge {
				if len(cur)+len(line) > MaxMessageBytes {
					tooLarge, cur = true, nil
				} else {
					cur = append(cur, line...)
				}
			}
		}
		if err != nil {
			return emit(off)
		}
	}
}

// isQuotedFrom reports whether line is ">From ", ">>From ", ... (mboxrd).
func isQuotedFrom(line []byte) bool {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	return i > 0 && bytes.HasPrefix(line[i:], []byte("From "))
}
