package db

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmtCache keeps statements prepared once per query text on one pool
// (database/sql re-prepares them on each connection that runs them). A
// nil cache prepares nothing: queries are parsed at every call.
type stmtCache struct {
	pool *sql.DB
	mu   sync.Mutex
	m    map[string]*sql.Stmt
	// scratch holds *[]webhook.Delivery buffers for reading pending rows.
	scratch sync.Pool
	// Recently read events, in two generations: a lookup tries both, an
	// addition goes to cur, and a full cur becomes old (so the cache holds
	// between eventCacheSize and twice as many, the most recent).
	evMu         sync.Mutex
	evCur, evOld map[string]eventInfo
}

// eventCacheSize bounds a generation of the event cache: enough for the
// read-ahead of every queue of a sender (Options.Prefetch rows each, the
// same events in every queue).
const eventCacheSize = 2048

// event returns the cached event id; false on a miss or a nil cache.
func (c *stmtCache) event(id string) (eventInfo, bool) {
	if c == nil {
		return eventInfo{}, false
	}
	c.evMu.Lock()
	defer c.evMu.Unlock()
	if ev, ok := c.evCur[id]; ok {
		return ev, true
	}
	ev, ok := c.evOld[id]
	return ev, ok
}

// addEvent caches an event (nothing on a nil cache).
func (c *stmtCache) addEvent(id string, ev eventInfo) {
	if c == nil {
		return
	}
	c.evMu.Lock()
	defer c.evMu.Unlock()
	if len(c.evCur) >= eventCacheSize {
		c.evOld, c.evCur = c.evCur, nil
	}
	if c.evCur == nil {
		c.evCur = make(map[string]eventInfo, eventCacheSize)
	}
	c.evCur[id] = ev
}

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, m: map[string]*sql.Stmt{}}
}

// prepare returns the cached statement for q, preparing it on first use;
// nil (and no error) on a nil cache. On the writer pool, call it outside a
// transaction: preparing needs the pool's only connection. The lock is not
// held while preparing: a goroutine waiting for the connection must not
// block another that holds it, inside a transaction, and looks up a
// statement already cached.
func (c *stmtCache) prepare(ctx context.Context, q string) (*sql.Stmt, error) {
	if c == nil {
		return nil, nil
	}
	c.mu.Lock()
	st, ok := c.m[q]
	c.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := c.pool.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if had, ok := c.m[q]; ok { // prepared meanwhile by another goroutine
		st.Close()
		return had, nil
	}
	c.m[q] = st
	return st, nil
}

// query runs q with the cached statement, or on pool without a cache.
func (c *stmtCache) query(ctx context.Context, pool *sql.DB, q string, args ...any) (*sql.Rows, error) {
	if c == nil {
		return pool.QueryContext(ctx, q, args...)
	}
	st, err := c.prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, st := range c.m {
		errs = append(errs, st.Close())
		delete(c.m, q)
	}
	return errors.Join(errs...)
}

// txStmt returns cached bound to tx (no new parse when tx runs on the
// connection it was prepared on), or q prepared on tx when cached is nil.
func txStmt(ctx context.Context, tx *sql.Tx, cached *sql.Stmt, q string) (*sql.Stmt, error) {
	if cached != nil {
		return tx.StmtContext(ctx, cached), nil
	}
	return tx.PrepareContext(ctx, q)
}
