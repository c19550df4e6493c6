package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// openTemp opens a fresh catalog in a temporary directory, closed at cleanup.
func openTemp(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "cat.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// mustOpenMaster opens the master catalog at path (no secret key) and
// fails the test on error; the caller closes it.
func mustOpenMaster(t testing.TB, path string) *MasterDB {
	t.Helper()
	m, err := OpenMaster(context.Background(), path, nil)
	if err != nil {
		t.Fatalf("OpenMaster(%s): %v", path, err)
	}
	return m
}

// openQueue opens a fresh master catalog in a temporary directory and
// returns its fetch queue; the catalog is closed at cleanup.
func openQueue(t testing.TB) *FetchQueue {
	t.Helper()
	m := mustOpenMaster(t, filepath.Join(t.TempDir(), "m.db"))
	t.Cleanup(func() { m.Close() })
	return m.Fetch()
}

// mustOpen opens the catalog at path for writing and fails the test on
// error; the caller closes it.
func mustOpen(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return db
}

// write runs fn in one Write and fails the test on error.
func write(t testing.TB, db *DB, fn func(w *Writer) error) {
	t.Helper()
	if err := db.Write(context.Background(), fn); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// sampleObject returns a fully populated object for path.
func sampleObject(path string, i int) Object {
	return Object{
		Path:      path,
		Key:       "dst/" + path,
		Size:      int64(i)*1000 + 7,
		ModTime:   time.Unix(1700000000, int64(i)*1001),
		Version:   fmt.Sprintf("v%d", i),
		State:     States()[i%len(States())],
		Attempts:  i % 4,
		LastError: fmt.Sprintf("err %d", i),
		DstETag:   fmt.Sprintf("etag-%d", i),
		Checksum:  fmt.Sprintf("md5:%032x", i),
		UploadID:  fmt.Sprintf("upload-%d", i),
		PartSize:  int64(i) * 4096,
	}
}

// sameObject compares every field except UpdatedAt, which the catalog sets.
func sameObject(t testing.TB, got, want Object) {
	t.Helper()
	if !got.ModTime.Equal(want.ModTime) {
		t.Errorf("%q ModTime = %v, want %v", want.Path, got.ModTime, want.ModTime)
	}
	if got.UpdatedAt.IsZero() {
		t.Errorf("%q UpdatedAt is zero", want.Path)
	}
	got.ModTime, want.ModTime = time.Time{}, time.Time{}
	got.UpdatedAt, want.UpdatedAt = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("object mismatch:\n got %+v\nwant %+v", got, want)
	}
}

// readFile returns the bytes of path or fails the test.
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawExec runs statements on path through a plain go-sqlite3 connection,
// as another application (or a tamperer) would.
func rawExec(t testing.TB, path string, stmts ...string) {
	t.Helper()
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, s := range stmts {
		if _, err := raw.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}
