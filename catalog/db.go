package catalog

import (
	"context"
	"fmt"
)

// DB is an open object catalog: the objects of a migration, their finished
// parts and the catalog's meta values — what the transfer engine records
// and `ferry catalog` reads. It has no master or fetch methods: the
// master's state is MasterDB and the fetch queue FetchQueue, over the same
// kind of file. It is safe for concurrent use: writes are serialised on
// one connection, reads (Lookup, Get, Parts, Meta, List, Stats) use a
// separate pool and never wait for a write to finish.
type DB struct {
	*store
}

// Open opens the catalog at path for reading and writing, creating the file
// and its parent directories if missing, and runs pending migrations.
// Files Ferry creates (the catalog, its -wal, -shm and .lock) are mode 0600
// and new directories 0700, whatever the umask; an existing catalog that
// group or others could read is narrowed to 0600.
//
// Open takes no secret key, and a DB reads and writes no secrets (job
// credentials, fetch keys): a master's catalog opened with Open keeps its
// secrets as they are, and an older one with plain secrets is not
// upgraded. OpenMaster takes the key.
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
	s, err := openReadOnlyStore(ctx, path)
	if err != nil {
		return nil, err
	}
	return &DB{store: s}, nil
}

// openRW is Open with an explicit migration list (tests add steps).
func openRW(ctx context.Context, path string, ms []migration) (*DB, error) {
	s, err := openStore(ctx, path, ms)
	if err != nil {
		return nil, err
	}
	return &DB{store: s}, nil
}

// Path returns the path the catalog was opened with.
func (db *DB) Path() string { return db.path }

// ReadOnly reports whether db came from OpenReadOnly.
func (db *DB) ReadOnly() bool { return db.readOnly }

// Close closes the catalog and releases the lock. The writer connection is
// closed last, so it checkpoints the WAL into the main file. Close is
// idempotent; using db afterwards returns ErrClosed.
func (db *DB) Close() error { return db.close() }

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
