package ui

import (
	"context"
	"errors"
	"fmt"

	"smista/app"
)

// setSeen marks an email read or unread, here and on its server.
func setSeen(c *common, id string, seen bool) {
	a := c.acts("read/unread")
	if a == nil || id == "" {
		return
	}
	text := "marked unread"
	if seen {
		text = "marked read"
	}
	c.emit(simple(text+" (u undoes)", func(ctx context.Context) error { return a.SetSeen(ctx, id, seen) }))
}

// setStar stars an email or takes its star away.
func setStar(c *common, id string, on bool) {
	a := c.acts("star")
	if a == nil || id == "" {
		return
	}
	text := "star taken away"
	if on {
		text = "starred"
	}
	c.emit(simple(text+" (u undoes)", func(ctx context.Context) error { return a.SetFlagged(ctx, id, on) }))
}

// markDone marks an email done: out of the inbox, into the archive.
func markDone(c *common, id string) {
	a := c.acts("done")
	if a == nil || id == "" {
		return
	}
	c.emit(simple("done: archived (u undoes)", func(ctx context.Context) error { return a.Done(ctx, id) }))
}

// undoLast reverses the last read, star or done.
func undoLast(c *common) {
	a := c.acts("undo")
	if a == nil {
		return
	}
	c.emit(action{do: func(ctx context.Context) actionDone {
		kind, _, err := a.Undo(ctx)
		if errors.Is(err, app.ErrNothingToUndo) {
			return actionDone{text: "nothing to undo"}
		}
		what := map[string]string{app.ActSeen: "read state restored", app.ActFlagged: "star restored",
			app.ActDone: "back in the inbox"}[kind]
		return actionDone{text: fmt.Sprintf("undone: %s", what), err: err}
	}})
}
