package catalog

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpen_createsFileDirsAndMeta(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a", "b", "cat.db")
	db := mustOpen(t, path)
	defer db.Close()
	if db.Path() != path {
		t.Errorf("Path() = %q, want %q", db.Path(), path)
	}
	for _, p := range []string{path, path + ".lock"} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("stat %s: %v", p, err)
		}
	}
	if v, err := db.Meta(ctx, "created_by"); err != nil || v != "ferry" {
		t.Errorf("Meta(created_by) = %q, %v; want ferry", v, err)
	}
	if v, err := db.Meta(ctx, "created_at"); err != nil || v == "" {
		t.Errorf("Meta(created_at) = %q, %v; want a time", v, err)
	}
	var mode string
	if err := db.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var version int
	if err := db.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil ||
		version != latestVersion(allMigrations()) {
		t.Errorf("user_version = %d, %v; want %d", version, err, latestVersion(allMigrations()))
	}
}

func TestOpen_specialCharactersInPath(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dir with space?#%20&é", "cat.db")
	db := mustOpen(t, path)
	write(t, db, func(w *Writer) error { return w.PutObject(Object{Path: "x", Size: 3}) })
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("catalog not at %q: %v", path, err)
	}
	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatalf("OpenReadOnly: %v", err)
	}
	defer ro.Close()
	if o, ok, err := ro.Get(ctx, "x"); err != nil || !ok || o.Size != 3 {
		t.Errorf("Get = %+v, %v, %v", o, ok, err)
	}
}

func TestOpen_inUse(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cat.db")
	db := mustOpen(t, path)
	write(t, db, func(w *Writer) error { return w.PutObject(Object{Path: "kept"}) })
	_, err := Open(ctx, path)
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second Open error = %v, want ErrInUse", err)
	}
	if want := "catalog " + path + " is in use by another ferry process"; err.Error() != want {
		t.Errorf("message = %q, want %q", err, want)
	}
	// The first DB is unaffected by the failed attempt.
	if _, ok, err := db.Get(ctx, "kept"); err != nil || !ok {
		t.Errorf("Get after failed second Open = %v, %v", ok, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	db2.Close()
}

func TestOpenReadOnly_whileWriterHoldsIt(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	write(t, db, func(w *Writer) error { return w.PutObject(sampleObject("one", 1)) })
	ro, err := OpenReadOnly(ctx, db.Path())
	if err != nil {
		t.Fatalf("OpenReadOnly: %v", err)
	}
	defer ro.Close()
	if !ro.ReadOnly() || db.ReadOnly() {
		t.Errorf("ReadOnly() = %v/%v, want true/false", ro.ReadOnly(), db.ReadOnly())
	}
	o, ok, err := ro.Get(ctx, "one")
	if err != nil || !ok {
		t.Fatalf("Get = %v, %v", ok, err)
	}
	sameObject(t, o, sampleObject("one", 1))
	// Later commits of the writer are visible to the reader.
	write(t, db, func(w *Writer) error { return w.PutObject(sampleObject("two", 2)) })
	if _, ok, err := ro.Get(ctx, "two"); err != nil || !ok {
		t.Errorf("Get(two) after commit = %v, %v", ok, err)
	}
	if err := ro.Write(ctx, func(*Writer) error { return nil }); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Write on read-only = %v, want ErrReadOnly", err)
	}
	if err := ro.SetMeta(ctx, "k", "v"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("SetMeta on read-only = %v, want ErrReadOnly", err)
	}
}

func TestOpenReadOnly_neverWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cat.db")
	db := mustOpen(t, path)
	write(t, db, func(w *Writer) error { return w.PutObject(sampleObject("a", 1)) })
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, path)
	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatalf("OpenReadOnly: %v", err)
	}
	if st, err := ro.Stats(ctx); err != nil || st.Total != 1 {
		t.Errorf("Stats = %+v, %v", st, err)
	}
	if err := ro.Check(ctx); err != nil {
		t.Errorf("Check: %v", err)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, readFile(t, path)) {
		t.Error("OpenReadOnly changed the catalog file")
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		if fi, _ := os.Stat(path + "-wal"); fi.Size() > 0 {
			t.Error("OpenReadOnly left a non-empty WAL")
		}
	}
}

func TestOpenReadOnly_missing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.db")
	_, err := OpenReadOnly(context.Background(), path)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("error = %v, want os.ErrNotExist", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenReadOnly created %s", path)
	}
}

// assertNotCatalog checks that Open and OpenReadOnly both refuse path with
// a one-line ErrNotCatalog error and leave its bytes alone.
func assertNotCatalog(t *testing.T, path, reason string) {
	t.Helper()
	ctx := context.Background()
	before := readFile(t, path)
	for name, open := range map[string]func(context.Context, string) (*DB, error){
		"Open": Open, "OpenReadOnly": OpenReadOnly,
	} {
		db, err := open(ctx, path)
		if err == nil {
			db.Close()
			t.Fatalf("%s succeeded on a foreign file", name)
		}
		if !errors.Is(err, ErrNotCatalog) {
			t.Errorf("%s error = %v, want ErrNotCatalog", name, err)
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "catalog "+path+": not a Ferry catalog") ||
			!strings.Contains(msg, reason) {
			t.Errorf("%s message = %q, want one line with %q", name, msg, reason)
		}
		if !bytes.Equal(before, readFile(t, path)) {
			t.Fatalf("%s modified the file", name)
		}
	}
	// The lock is released after the failure: the lock file is free again.
	l, err := lockFile(path+".lock", path)
	if err != nil {
		t.Fatalf("lock after failed Open: %v", err)
	}
	l.unlock()
}

func TestOpen_randomBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junk.db")
	b := make([]byte, 8192)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	assertNotCatalog(t, path, "file is not a database")
}

func TestOpen_shortFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "short.db")
	if err := os.WriteFile(path, []byte("SQLite"), 0o644); err != nil {
		t.Fatal(err)
	}
	assertNotCatalog(t, path, "file is not a database")
}

func TestOpen_sqliteHeaderThenGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.db")
	b := bytes.Repeat([]byte{0xA5}, 4096)
	copy(b, sqliteHeader)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	assertNotCatalog(t, path, "")
}

func TestOpen_foreignSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	rawExec(t, path,
		"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)",
		"INSERT INTO users (name) VALUES ('alice')")
	assertNotCatalog(t, path, "another application")
}

func TestOpen_foreignSQLiteWithMetaTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	rawExec(t, path,
		"PRAGMA journal_mode=WAL",
		"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
		"INSERT INTO meta VALUES ('created_by', 'someone-else')")
	assertNotCatalog(t, path, "another application")
}

func TestOpen_emptyFileIsInitialised(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenReadOnly(ctx, path); !errors.Is(err, ErrNotCatalog) {
		t.Errorf("OpenReadOnly on empty file = %v, want ErrNotCatalog", err)
	}
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open on empty file: %v", err)
	}
	defer db.Close()
	if v, err := db.Meta(ctx, "created_by"); err != nil || v != "ferry" {
		t.Errorf("Meta(created_by) = %q, %v", v, err)
	}
}

func TestOpen_newerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cat.db")
	db := mustOpen(t, path)
	db.Close()
	rawExec(t, path, "PRAGMA user_version = 99")
	before := readFile(t, path)
	for name, open := range map[string]func(context.Context, string) (*DB, error){
		"Open": Open, "OpenReadOnly": OpenReadOnly,
	} {
		db, err := open(ctx, path)
		if err == nil {
			db.Close()
			t.Fatalf("%s accepted schema 99", name)
		}
		if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "99") {
			t.Errorf("%s error = %v, want ErrNewerSchema naming 99", name, err)
		}
	}
	if !bytes.Equal(before, readFile(t, path)) {
		t.Error("file modified")
	}
}

func TestDB_Close(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, _, err := db.Get(ctx, "x"); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close = %v, want ErrClosed", err)
	}
	if err := db.Write(ctx, func(*Writer) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
}

func TestDB_reopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cat.db")
	db := mustOpen(t, path)
	write(t, db, func(w *Writer) error {
		for i, p := range []string{"a", "b/c", "d e"} {
			if err := w.PutObject(sampleObject(p, i)); err != nil {
				return err
			}
		}
		return w.AddPart(Part{Path: "b/c", Number: 1, Size: 5, ETag: "e1", Checksum: "c1"})
	})
	if err := db.SetMeta(ctx, "job", "j-1"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	got, err := db.Lookup(ctx, []string{"a", "b/c", "d e"})
	if err != nil || len(got) != 3 {
		t.Fatalf("Lookup = %d rows, %v", len(got), err)
	}
	for i, p := range []string{"a", "b/c", "d e"} {
		sameObject(t, got[p], sampleObject(p, i))
	}
	parts, err := db.Parts(ctx, "b/c")
	if err != nil || len(parts) != 1 || parts[0] != (Part{Path: "b/c", Number: 1, Size: 5, ETag: "e1", Checksum: "c1"}) {
		t.Errorf("Parts = %+v, %v", parts, err)
	}
	if v, err := db.Meta(ctx, "job"); err != nil || v != "j-1" {
		t.Errorf("Meta(job) = %q, %v", v, err)
	}
}
