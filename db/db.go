// Package db wraps the single SQLite file that holds smista's state. It
// implements the store interfaces that the other packages declare, and is
// laid out by what it stores: db.go opens the file and migrates it;
// messages.go, mailboxes.go (sync state; bulkindex.go the indexes an
// initial sync builds after its last batch, checkpoint.go the WAL copied
// back off the writer), triage.go (results, decisions,
// overrides), drafts.go, endpoints.go, llmcache.go; the outbox in
// outbox.go (enqueue), sender.go and record.go (the sender's reads and its
// group commit, with stmtcache.go), deliverylog.go (deliveries, attempts,
// tickets, replay); inbox.go holds the inbox queries and the message
// detail, search.go the search's terms (ParseQuery) and conditions,
// searchindex.go the indexer of subjects, senders and bodies; codec.go
// the encodings they share.
package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go, no cgo)
)

// ErrNewerSchema is returned by Open when the file was written by a newer
// smista: opening it would risk corrupting data this build does not know.
var ErrNewerSchema = errors.New("database was written by a newer smista")

// ErrNotSmista is returned by Open for a file that is not a smista store
// (another program's database, or not a database at all); the file is
// left untouched.
var ErrNotSmista = errors.New("not a smista database")

// ErrNotFound is returned by lookups that match no row.
var ErrNotFound = errors.New("not found")

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is the opened store: one writer connection (SQLite allows one writer;
// a single pooled connection serialises writes without SQLITE_BUSY storms)
// and a pool of read-only connections for the UI and listings.
type DB struct {
	w    *sql.DB
	r    *sql.DB
	path string
	// Now is the clock used for timestamps; tests replace it.
	Now func() time.Time
	// IDs makes the ids of new endpoints, events and deliveries from a
	// prefix ("ep_", "evt_", "dlv_"); nil means NewID. Fixtures replace it
	// to get the same ids on every run.
	IDs func(prefix string) string

	// ws keeps the writer's hot statements (message inserts, triage
	// saves) prepared once: parsing SQL is a large part of a small
	// statement's cost in the pure-Go SQLite.
	ws *stmtCache
	// codec compresses the raw mail it stores.
	codec rawCodec
	// ckpt checkpoints the WAL off the writer (nil in memory).
	ckpt *checkpointer
	// deferring is set while an initial sync holds back deferredIndexes.
	deferring atomic.Bool
}

// Open opens (creating with mode 0600 if needed) the SQLite file at path,
// applies pending migrations and returns the store. It fails with
// ErrNewerSchema when the file's schema is newer than this build's.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open db: empty path")
	}
	if path != ":memory:" {
		if err := prepareFile(path); err != nil {
			return nil, err
		}
	}

	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open db: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	d := &DB{w: w, r: w, path: path, Now: time.Now, ws: newStmtCache(w)}
	if path != ":memory:" {
		r, err := sql.Open("sqlite", dsn(path, true))
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("open db: %w", err)
		}
		r.SetMaxOpenConns(4)
		d.r = r
		d.ckpt = startCheckpointer(r)
	}
	if err := d.buildDeferredAtOpen(ctx); err != nil {
		d.Close()
		return nil, err
	}
	if err := d.migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	if _, err := d.ExpireSecrets(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// sqliteMagic starts every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// prepareFile makes sure path is a file smista may open as its store:
// created with mode 0600 from the first byte (SQLite gives its -wal and
// -shm files the database file's mode), or an existing smista store,
// which is made 0600. Any other file is refused and left as it was: a
// mistyped --db must not chmod, let alone migrate, someone else's file.
func prepareFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("open db: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open db: %w", err)
	}
	defer f.Close()
	head := make([]byte, 100)
	n, _ := io.ReadFull(f, head)
	switch {
	case n == 0: // new or empty: ours
	case n < len(sqliteMagic) || string(head[:len(sqliteMagic)]) != sqliteMagic:
		return fmt.Errorf("open db: %s is not an SQLite database: %w (give smista its own file with --db)", path, ErrNotSmista)
	default:
		if err := checkSmistaSchema(path); err != nil {
			return err
		}
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("open db: %w", err)
	}
	return nil
}

// checkSmistaSchema refuses an SQLite file that holds tables but no smista
// schema.
func checkSmistaSchema(path string) error {
	r, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return fmt.Errorf("open db: %w", err)
	}
	defer r.Close()
	var tables, ours int
	if err := r.QueryRow(`SELECT COUNT(*), COUNT(*) FILTER (WHERE name = 'schema_migrations') FROM sqlite_master
		WHERE type = 'table'`).Scan(&tables, &ours); err != nil {
		return fmt.Errorf("open db: %s: %w", path, err)
	}
	if tables > 0 && ours == 0 {
		return fmt.Errorf("open db: %s is the SQLite database of another program: %w (give smista its own file with --db)", path, ErrNotSmista)
	}
	return nil
}

// dsn builds the connection string. Pragmas sit in the DSN so every pooled
// connection gets them, not just the first.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	// WAL: readers never block the writer and vice versa.
	q.Add("_pragma", "journal_mode(WAL)")
	// NORMAL is durable in WAL mode across application crashes; only a power
	// loss can drop the last commits.
	q.Add("_pragma", "synchronous(NORMAL)")
	// The schema relies on ON DELETE CASCADE and references.
	q.Add("_pragma", "foreign_keys(1)")
	// Wait for a lock instead of failing at once with SQLITE_BUSY.
	q.Add("_pragma", "busy_timeout(5000)")
	if readOnly {
		// query_only rather than mode=ro: it works on a WAL file whose
		// -shm the writer owns, and still refuses every write.
		q.Add("_pragma", "query_only(1)")
	} else {
		// BEGIN IMMEDIATE takes the write lock up front, so a read-then-write
		// transaction cannot fail half-way with SQLITE_BUSY.
		q.Set("_txlock", "immediate")
		// Statement journals (one per multi-row INSERT in a transaction)
		// stay in memory instead of a temp file; durability is unchanged.
		q.Add("_pragma", "temp_store(MEMORY)")
		// Checkpoint every 8,000 WAL pages (32 MiB) rather than 1,000: a
		// page the outbox rewrites in many commits (a run of deliveries, an
		// index leaf) is copied back once per checkpoint, and each
		// checkpoint costs two fsyncs on the writer's only connection.
		q.Add("_pragma", "wal_autocheckpoint(8000)")
		// An 8 MiB page cache for the one writer (2 MiB by default): a
		// triage batch updates rows and index entries spread across a
		// 100,000-message store, and re-reading those pages from the OS
		// each transaction made triaging them 2.3 times slower (27 s
		// against 12 s); 32 MiB was no faster, and 45 MB larger.
		q.Add("_pragma", "cache_size(-8192)")
		// Deleted content (a removed endpoint's secret, an expired
		// previous secret) is overwritten with zeros, not left in free
		// pages where a copy of the file would still hold it.
		q.Add("_pragma", "secure_delete(1)")
	}
	if path == ":memory:" {
		return "file::memory:?" + q.Encode()
	}
	return "file:" + path + "?" + q.Encode()
}

// Close stops the background checkpoints and closes both pools.
func (d *DB) Close() error {
	d.ckpt.close()
	errs := []error{d.ws.close()}
	if d.r != d.w {
		errs = append(errs, d.r.Close())
	}
	errs = append(errs, d.w.Close())
	return errors.Join(errs...)
}

// Path returns the file the store was opened on.
func (d *DB) Path() string { return d.path }

// nowMS returns the store clock in unix milliseconds.
func (d *DB) nowMS() int64 { return d.Now().UnixMilli() }

// newID returns a new row id with prefix, from d.IDs when set.
func (d *DB) newID(prefix string) string {
	if d.IDs != nil {
		return d.IDs(prefix)
	}
	return NewID(prefix)
}

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration %q: name must be NNNN_name.sql", name)
		}
		b, err := migrationFS.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	// Versions may leave gaps: each issue is given its number, and the
	// branches land in any order.
	for i, m := range ms {
		if m.version < 1 || (i > 0 && m.version == ms[i-1].version) {
			return nil, fmt.Errorf("migration %q: version %d used twice or not positive", m.name, m.version)
		}
	}
	return ms, nil
}

// SchemaVersion returns the highest migration version this build knows.
func SchemaVersion() int {
	ms, _ := loadMigrations()
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// SchemaID names this build's schema: its version and a digest of every
// migration's text, so that a cache of stores (the benchmarks') never
// reuses one written by other migrations of the same number.
func SchemaID() string {
	ms, _ := loadMigrations()
	h := sha256.New()
	for _, m := range ms {
		h.Write([]byte(m.sql))
	}
	return fmt.Sprintf("v%d-%x", SchemaVersion(), h.Sum(nil)[:4])
}

// migrate applies every pending migration, each in its own transaction.
func (d *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := d.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var cur int
	if err := d.w.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if last := ms[len(ms)-1].version; cur > last {
		return fmt.Errorf("open %s: schema version %d, this smista knows %d: %w (upgrade smista, or use another --db)",
			d.path, cur, last, ErrNewerSchema)
	}
	for _, m := range ms {
		if m.version <= cur {
			continue
		}
		if err := d.apply(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// fkOffMarker, as a migration's first line, runs it with foreign keys
// off: a migration that rebuilds a parent table must not cascade into its
// children when it drops the old one (SQLite's "12-step" table change).
// Every reference is checked before the migration commits.
const fkOffMarker = "-- smista: foreign keys off"

func (d *DB) apply(ctx context.Context, m migration) error {
	// One connection for the migration: PRAGMA foreign_keys is a setting
	// of the connection, and is ignored inside a transaction.
	conn, err := d.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	defer conn.Close()
	fkOff := strings.HasPrefix(m.sql, fkOffMarker)
	if fkOff {
		if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if fkOff {
		if err := foreignKeyCheck(ctx, tx); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, d.nowMS()); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	return nil
}

// foreignKeyCheck fails when any row references a missing parent.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return err
		}
		return fmt.Errorf("foreign key check: %s row %d references a missing %s row", table, rowid.Int64, parent)
	}
	return rows.Err()
}

// DefaultPath returns $XDG_DATA_HOME/smista/smista.db (falling back to
// ~/.local/share), using getenv to read the environment.
func DefaultPath(getenv func(string) string) (string, error) {
	if p := getenv("SMISTA_DB"); p != "" {
		return p, nil
	}
	base := getenv("XDG_DATA_HOME")
	if base == "" {
		home := getenv("HOME")
		if home == "" {
			return "", errors.New("no database path: set --db, SMISTA_DB, XDG_DATA_HOME or HOME")
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "smista", "smista.db"), nil
}
