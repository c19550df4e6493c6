package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// sqliteHeader is the magic string at offset 0 of every SQLite 3 file.
const sqliteHeader = "SQLite format 3\x00"

// fileState is what inspect learned about an existing path.
type fileState struct {
	exists  bool // the database file exists
	fresh   bool // it holds no tables yet: safe to initialise
	version int  // PRAGMA user_version
}

// inspect examines path without ever writing to it: it reads the header
// bytes itself and then looks inside through a read-only SQLite connection
// that sets no journal mode. It returns an error wrapping ErrNotCatalog for
// a file that is not SQLite or is SQLite without Ferry's meta, and one
// wrapping ErrNewerSchema when the schema is newer than latest.
func inspect(ctx context.Context, path, abs string, latest int) (fileState, error) {
	fi, err := os.Stat(abs)
	if errors.Is(err, os.ErrNotExist) {
		return fileState{}, nil
	}
	if err != nil {
		return fileState{}, fmt.Errorf("stat catalog %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fileState{}, notCatalog(path, "not a regular file")
	}
	if fi.Size() > 0 {
		if err := checkHeader(path, abs); err != nil {
			return fileState{}, err
		}
	}
	// A zero-length file is an empty database to SQLite (perhaps with a WAL
	// beside it), so it is examined like any other.
	st := fileState{exists: true}
	db, err := sql.Open("sqlite3", dsn(abs, inspectParams(abs)))
	if err != nil {
		return fileState{}, fmt.Errorf("open catalog %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	var tables int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&tables); err != nil {
		if ctx.Err() != nil {
			return fileState{}, fmt.Errorf("inspect catalog %s: %w", path, ctx.Err())
		}
		return fileState{}, notCatalog(path, sqliteReason(err))
	}
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&st.version); err != nil {
		return fileState{}, notCatalog(path, sqliteReason(err))
	}
	if tables == 0 && st.version == 0 {
		st.fresh = true
		return st, nil
	}
	var hasMeta int
	if err := db.QueryRowContext(ctx,
		"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'").Scan(&hasMeta); err != nil {
		return fileState{}, notCatalog(path, sqliteReason(err))
	}
	if hasMeta == 0 {
		return fileState{}, notCatalog(path, "SQLite database of another application")
	}
	var by string
	err = db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'created_by'").Scan(&by)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fileState{}, notCatalog(path, "SQLite database of another application")
	}
	if by != "ferry" {
		return fileState{}, notCatalog(path, "SQLite database of another application")
	}
	if st.version > latest {
		return fileState{}, fmt.Errorf("catalog %s: schema version %d, this ferry knows up to %d: %w; upgrade ferry",
			path, st.version, latest, ErrNewerSchema)
	}
	return st, nil
}

// inspectParams are the connection parameters of inspect: read-only, and
// immutable when no -wal file lies beside the database. SQLite opens a
// WAL-mode database read-only by creating its -wal and -shm files, which a
// read-only connection then cannot remove; without a -wal no connection
// has the database open in WAL mode, the main file holds every commit, and
// an immutable connection reads it creating nothing. (The few queries of
// inspect are over long before a writer starting meanwhile could
// checkpoint into the file.)
func inspectParams(abs string) url.Values {
	v := url.Values{"mode": {"ro"}}
	if !exists(abs + "-wal") {
		v.Set("immutable", "1")
	}
	return v
}

// exists reports whether a file is at path.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// Probe examines the file at path without writing anything beside or into
// it (no lock, -wal or -shm file) and returns nil when Open would accept
// it: no file yet, an empty file, or a catalog of this or an older schema.
// It returns an error wrapping ErrNotCatalog for any other file and
// ErrNewerSchema for a newer catalog. A caller that must refuse a bad
// catalog before creating anything (a destination, a lock file) probes
// first; Open still checks everything again under its lock.
func Probe(ctx context.Context, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("resolve catalog path %s: %w", path, err)
	}
	_, err = inspect(ctx, path, abs, latestVersion(allMigrations()))
	return err
}

// LeaveNoTrace notes which of the -wal and -shm files beside the catalog
// at path exist now, before a read-only open, and returns the function to
// call after the last read-only DB of this process on it is closed: it
// removes the -wal and -shm files that reading created, the way SQLite
// removes them itself, by opening the file once more and closing it as its
// last connection. Whenever another connection (a running migration, another
// reader) still has the catalog open, SQLite keeps the files and so does
// this; it never changes the catalog's content (an empty WAL has nothing to
// checkpoint). Errors are ignored: the files are harmless leftovers.
func LeaveNoTrace(path string) func(ctx context.Context) {
	abs, err := filepath.Abs(path)
	if err != nil || exists(abs+"-wal") || exists(abs+"-shm") {
		return func(context.Context) {}
	}
	return func(ctx context.Context) {
		if !exists(abs) || (!exists(abs+"-wal") && !exists(abs+"-shm")) {
			return
		}
		if fi, err := os.Stat(abs + "-wal"); err == nil && fi.Size() > 0 {
			return // a writer wrote meanwhile: its WAL is its own business
		}
		db, err := sql.Open("sqlite3", dsn(abs, url.Values{"mode": {"rw"}}))
		if err != nil {
			return
		}
		defer db.Close()
		var n int
		_ = db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n)
	}
}

// checkHeader reads the first bytes of abs and rejects anything that does
// not start with the SQLite magic string.
func checkHeader(path, abs string) error {
	f, err := os.Open(abs)
	if err != nil {
		return fmt.Errorf("open catalog %s: %w", path, err)
	}
	defer f.Close()
	buf := make([]byte, len(sqliteHeader))
	if _, err := io.ReadFull(f, buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return notCatalog(path, "file is not a database")
		}
		return fmt.Errorf("read catalog %s: %w", path, err)
	}
	if string(buf) != sqliteHeader {
		return notCatalog(path, "file is not a database")
	}
	return nil
}

// sqliteReason turns a driver error into a short reason for a one-line
// message ("file is not a database", "database disk image is malformed").
func sqliteReason(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// dsn builds a go-sqlite3 URI for an absolute path. The path is escaped so
// that spaces, '?', '#' and '%' in directory names survive.
func dsn(abs string, params url.Values) string {
	u := url.URL{Scheme: "file", Path: abs, RawQuery: params.Encode()}
	return u.String()
}
