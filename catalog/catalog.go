// Package catalog is Ferry's embedded SQLite store: every object a migration
// touches is a row before any byte moves, with its state, attempts, errors,
// checksums, multipart upload ID and finished parts, so that a killed agent
// resumes exactly where it stopped.
//
// It offers three distinct types, none of which has another's methods:
//
//   - DB, the object catalog (db.go, read.go, write.go, list.go): what the
//     transfer engine records and `ferry catalog` reads.
//   - MasterDB, the master's state (master*.go): jobs and their sealed
//     credentials, ranges, leases, agents, reports, failed objects and
//     counters. OpenMaster opens it.
//   - FetchQueue, the fetch queue in the master's file (fetch_*.go): fetch
//     jobs, tasks, their leases and callbacks. MasterDB.Fetch returns it.
//
// They share an unexported layer (store.go, migrate.go, inspect.go,
// lock_*.go, private.go, rows.go, secret*.go): opening the file, its lock,
// pragmas, the writer connection and read pool, migrations and sealed
// secrets.
//
// A catalog file is used by one writing process at a time (Open takes an
// exclusive flock on "<path>.lock"); any number of readers (OpenReadOnly, the
// `ferry catalog` commands) may inspect it while that writer runs. The file is
// in WAL mode with synchronous=NORMAL; all writes go through one connection
// and are batched by the caller inside Write, so thousands of rows cost one
// commit. Schema changes go through the numbered migrations of migrate.go;
// every file carries every table, so any catalog opens as any of the types.
package catalog

import (
	"errors"
	"fmt"
	"time"
)

// State is the life-cycle state of one object:
// pending → copying → verifying → done | failed | skipped. An archived
// object waiting for its restore (ferry migrate --restore) is restoring,
// then pending once it can be read.
type State string

// The states an object can be in.
const (
	StatePending   State = "pending"
	StateCopying   State = "copying"
	StateVerifying State = "verifying"
	StateDone      State = "done"
	StateFailed    State = "failed"
	StateSkipped   State = "skipped"
	StateRestoring State = "restoring"
)

// States lists every valid State in life-cycle order.
func States() []State {
	return []State{StatePending, StateCopying, StateVerifying, StateDone, StateFailed, StateSkipped, StateRestoring}
}

// Valid reports whether s is one of the defined states.
func (s State) Valid() bool {
	for _, v := range States() {
		if s == v {
			return true
		}
	}
	return false
}

// Object is one row of the catalog: one source file and what happened to it.
type Object struct {
	Path      string    // primary key: the tree path
	Key       string    // destination key ("" = same as Path)
	Size      int64     // source size in bytes
	ModTime   time.Time // source modification time (zero = unknown)
	Version   string    // source change token
	State     State     // "" is stored as StatePending
	Attempts  int       // copy attempts so far (the engine counts them)
	LastError string    // reason of the last failure ("" none)
	DstETag   string    // what the destination reported
	Checksum  string    // e.g. "md5:hex" or "us3:etag"; opaque to the catalog
	UploadID  string    // multipart upload in progress ("" none)
	PartSize  int64     // part size of that upload
	UpdatedAt time.Time // set by the catalog on every write; ignored by PutObject
}

// DestKey returns the destination key: Key, or Path when Key is empty.
func (o Object) DestKey() string {
	if o.Key != "" {
		return o.Key
	}
	return o.Path
}

// Part is one finished part of a multipart upload.
type Part struct {
	Path     string // the object's Path
	Number   int    // part number as the destination counts it
	Size     int64  // bytes in the part
	ETag     string // what the destination returned for the part
	Checksum string // hex of the engine's part hash
}

// Errors returned (wrapped) by the catalog; test with errors.Is.
var (
	// ErrInUse: another process (or another DB in this process) holds the
	// catalog open for writing. The message reads
	// "catalog /x/y.db is in use by another ferry process".
	ErrInUse = errors.New("in use by another ferry process")
	// ErrNotCatalog: the file is not SQLite, or is SQLite written by another
	// application. The file is left untouched.
	ErrNotCatalog = errors.New("not a Ferry catalog")
	// ErrNewerSchema: the catalog was written by a newer ferry.
	ErrNewerSchema = errors.New("catalog schema is newer than this ferry")
	// ErrReadOnly: a write was attempted on a DB from OpenReadOnly.
	ErrReadOnly = errors.New("catalog opened read-only")
	// ErrNotFound: SetState on a path that has no row.
	ErrNotFound = errors.New("object not in catalog")
	// ErrClosed: the DB or a finished Writer was used.
	ErrClosed = errors.New("catalog closed")
)

// notCatalog builds the one-line error for a foreign or corrupt file.
func notCatalog(path, reason string) error {
	return fmt.Errorf("catalog %s: %w (%s)", path, ErrNotCatalog, reason)
}

// nanos converts t to the stored form: unix nanoseconds, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
