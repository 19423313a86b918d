package ui

// pager keeps a window of rows around the visible part of a long list: only
// the visible rows plus a margin are loaded, so a 100,000-row list costs what
// a 100-row one does.
type pager[T any] struct {
	total  int // rows matching, as last counted
	cursor int // absolute index of the selected row
	top    int // absolute index of the first visible row
	start  int // absolute index of rows[0]
	rows   []T
	req    uint64 // the fetch in flight (0: none); older answers are dropped
	loaded bool   // a first answer arrived
	// wantOff and wantLim describe the window the fetch in flight asks for.
	wantOff, wantLim int
}

// margin is how many rows beyond the visible ones a fetch loads each side.
func margin(height int) int { return max(3*height, 60) }

// at returns the row at absolute index i if it is loaded.
func (p *pager[T]) at(i int) (T, bool) {
	var zero T
	if i < p.start || i >= p.start+len(p.rows) {
		return zero, false
	}
	return p.rows[i-p.start], true
}

// selected returns the row under the cursor if loaded.
func (p *pager[T]) selected() (T, bool) { return p.at(p.cursor) }

// move shifts the cursor by delta (clamped) and keeps it visible.
func (p *pager[T]) move(delta, height int) {
	p.moveTo(p.cursor+delta, height)
}

// moveTo places the cursor at i (clamped) and keeps it visible.
func (p *pager[T]) moveTo(i, height int) {
	if p.total == 0 {
		p.cursor, p.top = 0, 0
		return
	}
	p.cursor = min(max(i, 0), p.total-1)
	height = max(height, 1)
	if p.cursor < p.top {
		p.top = p.cursor
	}
	if p.cursor >= p.top+height {
		p.top = p.cursor - height + 1
	}
	p.top = max(0, min(p.top, max(0, p.total-height)))
}

// need reports whether the loaded window no longer covers the visible rows
// with some margin, and which window to fetch.
func (p *pager[T]) need(height int) (offset, limit int, ok bool) {
	m := margin(height)
	lo, hi := p.top, min(p.top+height, p.total)
	end := p.start + len(p.rows)
	covered := p.loaded && lo >= p.start && hi <= end
	// Prefetch when the visible rows come within a screen of either edge
	// (unless that edge is the end of the list).
	nearStart := p.start > 0 && lo-p.start < height
	nearEnd := end < p.total && end-hi < height
	if covered && !nearStart && !nearEnd {
		return 0, 0, false
	}
	offset = max(0, p.top-m)
	limit = height + 2*m
	if p.req != 0 && p.wantOff == offset && p.wantLim == limit {
		return 0, 0, false // already asked
	}
	return offset, limit, true
}

// fill installs a fetched window.
func (p *pager[T]) fill(offset int, rows []T, total, height int) {
	p.start, p.rows, p.total, p.loaded, p.req = offset, rows, total, true, 0
	p.moveTo(p.cursor, height)
}

// reset forgets everything loaded (a filter changed).
func (p *pager[T]) reset() {
	var zero pager[T]
	*p = zero
}
