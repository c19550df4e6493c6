package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	_ "github.com/mattn/go-sqlite3" // the database/sql driver "sqlite3"
)

// busyTimeoutMS is how long a statement waits for a lock held by another
// connection (a reader's checkpoint, another process's recovery).
const busyTimeoutMS = "10000"

// maxIdleReaders bounds the idle connections of the read pool.
const maxIdleReaders = 4

// DB is an open catalog. It is safe for concurrent use: writes are
// serialised on one connection, reads (Lookup, Get, Parts, Meta, List,
// Stats) use a separate pool and never wait for a write to finish.
type DB struct {
	path     string
	readOnly bool
	w        *sql.DB // the single writer connection; nil when read-only
	r        *sql.DB // read pool
	lock     *fileLock
	// box seals and opens secret columns; nil when opened without a key.
	box *secretBox
	// keyed: the catalog's secrets are sealed with a key (it has a key
	// check), so without box they can be neither read nor written.
	keyed bool

	mu     sync.Mutex
	closed bool
}

// Open opens the catalog at path for reading and writing, creating the file
// and its parent directories if missing, and runs pending migrations.
// Files Ferry creates (the catalog, its -wal, -shm and .lock) are mode 0600
// and new directories 0700, whatever the umask; an existing catalog that
// group or others could read is narrowed to 0600.
//
// Open takes no secret key: secrets (job credentials, fetch keys) are then
// stored as given, which only catalogs that never hold any (agents',
// standalone runs') and tests rely on; a catalog whose secrets are
// encrypted refuses to read or write them (ErrNoSecretKey), and an older
// catalog with plain secrets is not upgraded. OpenMaster takes the key.
//
// It first takes a non-blocking exclusive flock on "<path>.lock"; if another
// process (or another DB in this process) holds it, Open fails with an error
// wrapping ErrInUse and writes nothing. A file that is not SQLite, or is
// SQLite without Ferry's meta table, gives an error wrapping ErrNotCatalog
// and is left byte-for-byte unchanged; a schema from a newer ferry gives
// ErrNewerSchema.
func Open(ctx context.Context, path string) (*DB, error) {
	return openRW(ctx, path, allMigrations())
}

// OpenReadOnly opens an existing catalog for reading only (the `ferry
// catalog` commands). It never writes to the file, works while a writer
// holds the catalog open, and fails with an error wrapping os.ErrNotExist if
// the file is missing, ErrNotCatalog for a foreign file and ErrNewerSchema
// for a newer schema. A catalog of an older schema is read as it is; tables
// that later migrations add are then absent.
func OpenReadOnly(ctx context.Context, path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolve catalog path %s: %w", path, err)
	}
	st, err := inspect(ctx, path, abs, latestVersion(allMigrations()))
	if err != nil {
		return nil, err
	}
	if !st.exists {
		return nil, fmt.Errorf("open catalog %s: %w", path, os.ErrNotExist)
	}
	if st.fresh {
		return nil, notCatalog(path, "empty database")
	}
	r, err := openReaders(ctx, path, abs)
	if err != nil {
		return nil, err
	}
	return &DB{path: path, readOnly: true, r: r}, nil
}

// openRW is Open with an explicit migration list (tests add steps).
func openRW(ctx context.Context, path string, ms []migration, opts ...Option) (_ *DB, err error) {
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolve catalog path %s: %w", path, err)
	}
	if err := mkdirPrivate(filepath.Dir(abs)); err != nil {
		return nil, fmt.Errorf("create catalog directory: %w", err)
	}
	lock, err := lockFile(abs+".lock", path)
	if err != nil {
		return nil, err
	}
	db := &DB{path: path, lock: lock}
	defer func() {
		if err != nil {
			db.closeAll()
		}
	}()
	if _, err := inspect(ctx, path, abs, latestVersion(ms)); err != nil {
		return nil, err
	}
	if err := privatizeCatalog(abs); err != nil {
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}
	if err := db.useKey(ctx, abs, o); err != nil {
		return nil, err
	}
	db.w = db.openWriter(dsn(abs, url.Values{
		"_busy_timeout": {busyTimeoutMS},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"NORMAL"},
		"_foreign_keys": {"1"},
		"_txlock":       {"immediate"},
	}))
	// One connection, kept open for the DB's lifetime: writes serialise on
	// it, and the WAL is checkpointed only when it finally closes.
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)
	db.w.SetConnMaxLifetime(0)
	db.w.SetConnMaxIdleTime(0)
	if err := db.w.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}
	if err := db.zeroDeleted(ctx); err != nil {
		return nil, err
	}
	if err := migrate(ctx, db.w, path, ms); err != nil {
		return nil, err
	}
	if err := db.sealPlain(ctx); err != nil {
		return nil, err
	}
	if db.r, err = openReaders(ctx, path, abs); err != nil {
		return nil, err
	}
	return db, nil
}

// openReaders opens the read pool: read-only connections that set no
// journal mode, so they can never change the file.
func openReaders(ctx context.Context, path, abs string) (*sql.DB, error) {
	r, err := sql.Open("sqlite3", dsn(abs, url.Values{
		"mode":          {"ro"},
		"_busy_timeout": {busyTimeoutMS},
	}))
	if err != nil {
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}
	r.SetMaxIdleConns(maxIdleReaders)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}
	return r, nil
}

// Path returns the path the catalog was opened with.
func (db *DB) Path() string { return db.path }

// ReadOnly reports whether db came from OpenReadOnly.
func (db *DB) ReadOnly() bool { return db.readOnly }

// Close closes the catalog and releases the lock. The writer connection is
// closed last, so it checkpoints the WAL into the main file. Close is
// idempotent; using db afterwards returns ErrClosed.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return nil
	}
	db.closed = true
	return db.closeAll()
}

// closeAll releases every resource db holds, in order.
func (db *DB) closeAll() error {
	var errs []error
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	if db.w != nil {
		errs = append(errs, db.w.Close())
	}
	errs = append(errs, db.lock.unlock())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close catalog %s: %w", db.path, err)
	}
	return nil
}

// usable returns ErrClosed after Close, and ErrReadOnly when write is set on
// a read-only DB.
func (db *DB) usable(write bool) error {
	db.mu.Lock()
	closed := db.closed
	db.mu.Unlock()
	if closed {
		return fmt.Errorf("catalog %s: %w", db.path, ErrClosed)
	}
	if write && db.readOnly {
		return fmt.Errorf("catalog %s: %w", db.path, ErrReadOnly)
	}
	return nil
}

// Check runs SQLite's PRAGMA quick_check and returns an error describing
// the first problems found. It reads the whole file: meant for audits, not
// for every Open.
func (db *DB) Check(ctx context.Context) error {
	if err := db.usable(false); err != nil {
		return err
	}
	rows, err := db.r.QueryContext(ctx, "PRAGMA quick_check(5)")
	if err != nil {
		return fmt.Errorf("check catalog %s: %w", db.path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("check catalog %s: %w", db.path, err)
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check catalog %s: %w", db.path, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("check catalog %s: corrupt: %v", db.path, problems)
	}
	return nil
}
