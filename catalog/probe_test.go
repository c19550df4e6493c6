package catalog

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// names lists dir, sorted.
func names(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// TestProbe: a missing file, an empty one and a catalog are accepted; a
// garbage file and another program's WAL-mode SQLite database are refused
// with ErrNotCatalog, and probing writes no file beside them.
func TestProbe(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not sqlite ", 50)), 0o644); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "foreign.db")
	db, err := sql.Open("sqlite3", "file:"+foreign+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	before := names(t, dir)
	for _, p := range []string{garbage, foreign} {
		if err := Probe(ctx, p); !errors.Is(err, ErrNotCatalog) {
			t.Errorf("Probe(%s) = %v, want ErrNotCatalog", filepath.Base(p), err)
		}
	}
	for _, p := range []string{filepath.Join(dir, "missing.db"), empty} {
		if err := Probe(ctx, p); err != nil {
			t.Errorf("Probe(%s) = %v, want nil", filepath.Base(p), err)
		}
	}
	if after := names(t, dir); after != before {
		t.Fatalf("probing left files: %q, before %q", after, before)
	}

	cat := filepath.Join(t.TempDir(), "c.db")
	c, err := Open(ctx, cat)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := Probe(ctx, cat); err != nil {
		t.Fatalf("Probe(catalog) = %v", err)
	}
}

// TestLeaveNoTrace: a read-only open of a catalog at rest leaves no -wal
// or -shm file once tidied; while a writer holds the catalog, the files
// are the writer's and stay, and the writer goes on working.
func TestLeaveNoTrace(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cat := filepath.Join(dir, "c.db")
	w, err := Open(ctx, cat)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SetMeta(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	before := names(t, dir)
	if before != "c.db c.db.lock" {
		t.Fatalf("after a writer closed: %q", before)
	}
	read := func() {
		t.Helper()
		tidy := LeaveNoTrace(cat)
		r, err := OpenReadOnly(ctx, cat)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := r.Meta(ctx, "k"); err != nil || v != "v" {
			t.Fatalf("Meta = %q, %v", v, err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		tidy(ctx)
	}
	read()
	if after := names(t, dir); after != before {
		t.Fatalf("a read-only open left files: %q, before %q", after, before)
	}

	w, err = Open(ctx, cat)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.SetMeta(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	read()
	if err := w.SetMeta(ctx, "k2", "v2"); err != nil {
		t.Fatalf("the writer after a read-only open: %v", err)
	}
	if v, err := w.Meta(ctx, "k2"); err != nil || v != "v2" {
		t.Fatalf("Meta(k2) = %q, %v", v, err)
	}
}
