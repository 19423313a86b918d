package ui

import (
	"context"
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// list is the one list component of the screens: a cursor over rows of
// which only a window around the visible part is loaded, so a 100,000-row
// list costs what a 100-row one does. A window that borders the loaded
// rows names the row next to it, so a fetcher that can pages by key (the
// inbox: "the 240 rows after this one") rather than by skipping an offset.
// Its rows and its total always come from one load: the header's count
// and the rows drawn never mix two loads.
type list[T any] struct {
	to    scrID
	fetch fetcher[T]
	// id names a row; the selection stays on the same row across reloads
	// when rows are added or removed above it.
	id     func(T) string
	height int // visible rows

	total  int // rows matching, from the load that brought rows
	cursor int // absolute index of the selected row
	top    int // absolute index of the first visible row
	start  int // absolute index of rows[0]
	rows   []T
	loaded bool // a first answer arrived
	// want is the id to select when the next page arrives (or "").
	want string
	// req is the load in flight (0: none); older answers are dropped.
	// wantOff and wantLim are the window it asks for.
	req              uint64
	wantOff, wantLim int
}

// fetcher loads the rows of w and the total. A fetcher that loads a whole
// list returns it all from offset 0. It runs in a command: it must
// capture values (the store, a filter), never a screen.
type fetcher[T any] func(ctx context.Context, w window[T]) (page[T], error)

// window is the part of the list a load asks for: lim rows from off.
// prev is the loaded row just before off, next the one just after
// off+lim (nil when not loaded): a fetcher may load the rows after prev,
// or before next, instead of skipping off rows. last is true when the
// window ends the list (as far as the last load knew).
type window[T any] struct {
	off, lim   int
	prev, next *T
	last       bool
}

// page is what a fetcher loaded.
type page[T any] struct {
	off   int
	rows  []T
	total int
}

// pageOf is the page of rows read at off, converted for display, with
// the count read beside them.
func pageOf[R, T any](off int, rows []R, count int, conv func(R) T) page[T] {
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = conv(r)
	}
	return page[T]{off: off, rows: out, total: count}
}

// pageMsg carries a page to its screen.
type pageMsg[T any] struct {
	to  scrID
	req uint64
	lim int
	page[T]
	err error
}

func (p pageMsg[T]) route() scrID { return p.to }

// margin is how many rows beyond the visible ones a load brings each side.
func margin(height int) int { return max(3*height, 60) }

func newList[T any](to scrID, id func(T) string, fetch fetcher[T]) list[T] {
	return list[T]{to: to, id: id, fetch: fetch, height: 1}
}

// at returns the row at absolute index i if it is loaded.
func (l *list[T]) at(i int) (T, bool) {
	var zero T
	if i < l.start || i >= l.start+len(l.rows) {
		return zero, false
	}
	return l.rows[i-l.start], true
}

// selected returns the row under the cursor if loaded.
func (l *list[T]) selected() (T, bool) { return l.at(l.cursor) }

// visible returns the absolute indexes [from, to) of the visible rows.
func (l *list[T]) visible() (from, to int) { return l.top, min(l.top+l.height, l.total) }

// setHeight sets how many rows are visible.
func (l *list[T]) setHeight(h int) {
	l.height = max(h, 1)
	l.moveTo(l.cursor)
}

// move shifts the cursor by delta (clamped) and keeps it visible.
func (l *list[T]) move(delta int) { l.moveTo(l.cursor + delta) }

// moveTo places the cursor at i (clamped) and keeps it visible.
func (l *list[T]) moveTo(i int) {
	if l.total == 0 {
		l.cursor, l.top = 0, 0
		return
	}
	l.cursor = min(max(i, 0), l.total-1)
	if l.cursor < l.top {
		l.top = l.cursor
	}
	if l.cursor >= l.top+l.height {
		l.top = l.cursor - l.height + 1
	}
	l.top = max(0, min(l.top, max(0, l.total-l.height)))
}

// navigate moves the cursor for the navigation keys and reports whether
// msg was one.
func (l *list[T]) navigate(msg tea.KeyPressMsg, k KeyMap) bool {
	switch {
	case key.Matches(msg, k.Down):
		l.move(1)
	case key.Matches(msg, k.Up):
		l.move(-1)
	case key.Matches(msg, k.PageDown):
		l.move(l.height)
	case key.Matches(msg, k.PageUp):
		l.move(-l.height)
	case key.Matches(msg, k.Top):
		l.moveTo(0)
	case key.Matches(msg, k.Bottom):
		l.moveTo(l.total - 1)
	default:
		return false
	}
	return true
}

// rowAt returns the absolute index of visible row y (0 is the first
// visible row), if there is a row there.
func (l *list[T]) rowAt(y int) (int, bool) {
	from, to := l.visible()
	if y < 0 || from+y >= to {
		return 0, false
	}
	return from + y, true
}

// header is "a–b of N", or "0 <things>" when the list is empty.
func (l *list[T]) header(things string) string {
	if l.total == 0 {
		return "0 " + things
	}
	from, to := l.visible()
	return fmt.Sprintf("%s–%s of %s", thousands(from+1), thousands(to), thousands(l.total))
}

// need reports whether the loaded window no longer covers the visible rows
// with some margin, and which window to load.
func (l *list[T]) need() (offset, limit int, ok bool) {
	h := l.height
	lo, hi := l.visible()
	end := l.start + len(l.rows)
	covered := l.loaded && lo >= l.start && hi <= end
	// Prefetch when the visible rows come within a screen of either edge
	// (unless that edge is the end of the list).
	nearStart := l.start > 0 && lo-l.start < h
	nearEnd := end < l.total && end-hi < h
	if covered && !nearStart && !nearEnd {
		return 0, 0, false
	}
	offset, limit = l.window()
	if l.req != 0 && l.wantOff == offset && l.wantLim == limit {
		return 0, 0, false // already asked
	}
	return offset, limit, true
}

// window is the window around the visible rows that a load brings.
func (l *list[T]) window() (offset, limit int) {
	m := margin(l.height)
	return max(0, l.top-m), l.height + 2*m
}

// load returns the command loading the window that the visible rows need,
// or nil when it is loaded (or asked for).
func (l *list[T]) load(c *common) tea.Cmd {
	off, lim, ok := l.need()
	if !ok {
		return nil
	}
	return l.loadWindow(c, off, lim)
}

// refresh returns the command reloading the window around the visible
// rows: the store changed.
func (l *list[T]) refresh(c *common) tea.Cmd {
	off, lim := l.window()
	return l.loadWindow(c, off, lim)
}

func (l *list[T]) loadWindow(c *common, off, lim int) tea.Cmd {
	req := c.nextReq()
	l.req, l.wantOff, l.wantLim = req, off, lim
	w := window[T]{off: off, lim: lim, last: l.loaded && off+lim >= l.total}
	// Copies: the command must not share the list's rows.
	if r, ok := l.at(off - 1); ok {
		w.prev = &r
	} else if r, ok := l.at(off + lim); ok {
		w.next = &r
	}
	fetch, to := l.fetch, l.to
	return c.query(func(ctx context.Context) tea.Msg {
		p, err := fetch(ctx, w)
		return pageMsg[T]{to: to, req: req, lim: lim, page: p, err: err}
	})
}

// fill installs a loaded page; it reports false for a stale one (a newer
// load is in flight) or a failed one (its error is reported).
func (l *list[T]) fill(c *common, msg pageMsg[T]) bool {
	if msg.req != l.req {
		return false
	}
	l.req = 0
	if msg.err != nil {
		c.fail(msg.err)
		return false
	}
	keep := l.want
	if sel, ok := l.selected(); ok && keep == "" && l.id != nil {
		keep = l.id(sel)
	}
	l.start, l.rows, l.loaded, l.want = msg.off, msg.rows, true, ""
	l.total = consistentTotal(msg.off, msg.lim, len(msg.rows), msg.total)
	if i := l.find(keep); i >= 0 {
		// The same row stays selected, on the same line if it can.
		l.top += i - l.cursor
		l.cursor = i
	}
	l.moveTo(l.cursor)
	return true
}

// find returns the absolute index of the loaded row named id, or -1.
func (l *list[T]) find(id string) int {
	if id == "" || l.id == nil {
		return -1
	}
	for i, r := range l.rows {
		if l.id(r) == id {
			return l.start + i
		}
	}
	return -1
}

// consistentTotal is the total a page of n rows at off (asked with limit
// lim) proves, given the count read beside it: where a write between the
// count and the rows makes them disagree, the rows win, since they are
// what is drawn. A short page ends the list.
func consistentTotal(off, lim, n, count int) int {
	switch {
	case n == 0 && off > 0:
		return min(count, off) // the list ends at or before off
	case n < lim:
		return off + n
	}
	return max(count, off+n)
}

// retarget makes the list show fetch's rows from the top; the rows shown
// stay until its first answer replaces them (a search being typed does
// not flash "loading"), and an answer of the previous fetcher still in
// flight is dropped.
func (l *list[T]) retarget(c *common, fetch fetcher[T]) tea.Cmd {
	l.fetch = fetch
	l.cursor, l.top = 0, 0
	_, lim := l.window()
	return l.loadWindow(c, 0, lim)
}

// reset forgets everything loaded (a filter changed).
func (l *list[T]) reset() {
	l.total, l.cursor, l.top, l.start = 0, 0, 0, 0
	l.rows, l.loaded, l.want, l.req = nil, false, "", 0
}
