package catalog

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestAllMigrations_numbered(t *testing.T) {
	ms := allMigrations()
	if err := checkMigrations(ms); err != nil {
		t.Fatal(err)
	}
	if ms[0].version != 1 || ms[0].name != "objects and parts" {
		t.Errorf("first migration = %d %q", ms[0].version, ms[0].name)
	}
}

func TestCheckMigrations_gap(t *testing.T) {
	ms := append(allMigrations(), migration{version: latestVersion(allMigrations()) + 2, name: "gap", sql: "SELECT 1"})
	if err := checkMigrations(ms); err == nil || !strings.Contains(err.Error(), "gap") {
		t.Errorf("checkMigrations with a gap = %v, want error naming the step", err)
	}
}

func TestMigrate_upgradeKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cat.db")
	db := mustOpen(t, path)
	write(t, db, func(w *Writer) error { return w.PutObject(sampleObject("old", 3)) })
	db.Close()

	next := latestVersion(allMigrations()) + 1
	ms := append(allMigrations(), migration{next, "test table",
		"CREATE TABLE extra (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO extra (note) VALUES ('hi');"})
	db, err := openRW(ctx, path, ms)
	if err != nil {
		t.Fatalf("openRW with new step: %v", err)
	}
	var version int
	var note string
	if err := db.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil || version != next {
		t.Errorf("user_version = %d, %v; want %d", version, err, next)
	}
	if err := db.r.QueryRowContext(ctx, "SELECT note FROM extra").Scan(&note); err != nil || note != "hi" {
		t.Errorf("extra note = %q, %v", note, err)
	}
	o, ok, err := db.Get(ctx, "old")
	if err != nil || !ok {
		t.Fatalf("Get(old) = %v, %v", ok, err)
	}
	sameObject(t, o, sampleObject("old", 3))
	db.Close()

	// The ordinary Open now sees a newer schema than it knows.
	if _, err := Open(ctx, path); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("Open of upgraded file = %v, want ErrNewerSchema", err)
	}
}

func TestMigrate_failedStepRollsBack(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cat.db")
	db := mustOpen(t, path)
	db.Close()
	cur := latestVersion(allMigrations())
	ms := append(allMigrations(), migration{cur + 1, "broken",
		"CREATE TABLE half (x); THIS IS NOT SQL;"})
	if _, err := openRW(ctx, path, ms); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("openRW with broken step = %v, want error naming it", err)
	}
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open after failed migration: %v", err)
	}
	defer db.Close()
	var version, half int
	if err := db.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil || version != cur {
		t.Errorf("user_version = %d, %v; want %d", version, err, cur)
	}
	if err := db.r.QueryRowContext(ctx,
		"SELECT count(*) FROM sqlite_master WHERE name = 'half'").Scan(&half); err != nil || half != 0 {
		t.Errorf("half-applied table present: %d, %v", half, err)
	}
}
