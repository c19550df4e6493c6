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

// store is the layer the catalog's types share: one open SQLite file with
// its lock, its single writer connection (WAL, synchronous=NORMAL, foreign
// keys, immediate transactions), its read pool, its migrations and its
// secret box. DB (the object catalog), MasterDB (the master's state) and
// FetchQueue (the fetch queue) each wrap one; none of them sees another's
// methods. A store is safe for concurrent use: writes serialise on the
// writer connection, reads use the pool and never wait for a write.
type store struct {
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

// openStore opens the catalog file at path for reading and writing with
// the migration list ms; Open and OpenMaster document what it does.
func openStore(ctx context.Context, path string, ms []migration, opts ...Option) (_ *store, err error) {
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
	s := &store{path: path, lock: lock}
	defer func() {
		if err != nil {
			s.closeAll()
		}
	}()
	if _, err := inspect(ctx, path, abs, latestVersion(ms)); err != nil {
		return nil, err
	}
	if err := privatizeCatalog(abs); err != nil {
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}
	if err := s.useKey(ctx, abs, o); err != nil {
		return nil, err
	}
	s.w = s.openWriter(dsn(abs, url.Values{
		"_busy_timeout": {busyTimeoutMS},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"NORMAL"},
		"_foreign_keys": {"1"},
		"_txlock":       {"immediate"},
	}))
	// One connection, kept open for the store's lifetime: writes serialise
	// on it, and the WAL is checkpointed only when it finally closes.
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	if err := s.w.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}
	if err := s.zeroDeleted(ctx); err != nil {
		return nil, err
	}
	if err := migrate(ctx, s.w, path, ms); err != nil {
		return nil, err
	}
	if err := s.sealPlain(ctx); err != nil {
		return nil, err
	}
	if s.r, err = openReaders(ctx, path, abs); err != nil {
		return nil, err
	}
	return s, nil
}

// openReadOnlyStore opens an existing catalog file for reading only;
// OpenReadOnly documents what it does.
func openReadOnlyStore(ctx context.Context, path string) (*store, error) {
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
	return &store{path: path, readOnly: true, r: r}, nil
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

// close closes the file and releases the lock. The writer connection is
// closed last, so it checkpoints the WAL into the main file. close is
// idempotent; using s afterwards returns ErrClosed.
func (s *store) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.closeAll()
}

// closeAll releases every resource s holds, in order.
func (s *store) closeAll() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	errs = append(errs, s.lock.unlock())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close catalog %s: %w", s.path, err)
	}
	return nil
}

// usable returns ErrClosed after close, and ErrReadOnly when write is set
// on a read-only store.
func (s *store) usable(write bool) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return fmt.Errorf("catalog %s: %w", s.path, ErrClosed)
	}
	if write && s.readOnly {
		return fmt.Errorf("catalog %s: %w", s.path, ErrReadOnly)
	}
	return nil
}

// tx runs fn in one write transaction on the writer connection; what
// names the writer in errors ("master", "fetch").
func (s *store) tx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	if err := s.usable(true); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin %s write: %w", what, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit %s write: %w", what, err)
	}
	return nil
}

// reader returns the read pool after checking the store is open.
func (s *store) reader() (*sql.DB, error) {
	if err := s.usable(false); err != nil {
		return nil, err
	}
	return s.r, nil
}
