package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"
)

// migration is one numbered schema step. Versions are global to the file
// (stored in PRAGMA user_version) and run in order, each in its own
// transaction together with the user_version bump.
type migration struct {
	version int
	name    string
	sql     string
}

// allMigrations returns every migration this ferry knows, ordered by version.
//
// To add a schema change: write a function in the file of your area (for
// example migrate_master.go with masterMigrations() []migration) returning
// its steps, append its result below, and give each new step the next unused
// version number — versions are shared by all areas, must start at 1 and
// have no gaps (checkMigrations enforces this in tests and at Open). Never
// edit or renumber a released step; add a new one.
func allMigrations() []migration {
	var all []migration
	all = append(all, objectMigrations()...)
	all = append(all, masterMigrations()...)
	all = append(all, fetchMigrations()...)
	all = append(all, secretMigrations()...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].version < all[j].version })
	return all
}

// objectMigrations are the steps for the agent's object and part tables.
func objectMigrations() []migration {
	return []migration{
		{1, "objects and parts", schemaV1},
	}
}

const schemaV1 = `
CREATE TABLE meta (
	key   TEXT NOT NULL PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE objects (
	path       TEXT    NOT NULL PRIMARY KEY,
	key        TEXT    NOT NULL DEFAULT '',
	size       INTEGER NOT NULL DEFAULT 0,
	mod_time   INTEGER NOT NULL DEFAULT 0,
	version    TEXT    NOT NULL DEFAULT '',
	state      TEXT    NOT NULL DEFAULT 'pending',
	attempts   INTEGER NOT NULL DEFAULT 0,
	last_error TEXT    NOT NULL DEFAULT '',
	dst_etag   TEXT    NOT NULL DEFAULT '',
	checksum   TEXT    NOT NULL DEFAULT '',
	upload_id  TEXT    NOT NULL DEFAULT '',
	part_size  INTEGER NOT NULL DEFAULT 0,
	updated_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX objects_state_path ON objects(state, path);

CREATE TABLE parts (
	path     TEXT    NOT NULL REFERENCES objects(path) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
	number   INTEGER NOT NULL,
	size     INTEGER NOT NULL DEFAULT 0,
	etag     TEXT    NOT NULL DEFAULT '',
	checksum TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (path, number)
) WITHOUT ROWID;
`

// latestVersion is the highest version in ms (0 when empty).
func latestVersion(ms []migration) int {
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// checkMigrations verifies that ms is numbered 1, 2, … without gaps.
func checkMigrations(ms []migration) error {
	for i, m := range ms {
		if m.version != i+1 {
			return fmt.Errorf("check migrations: step %q has version %d, want %d", m.name, m.version, i+1)
		}
		if m.sql == "" {
			return fmt.Errorf("check migrations: step %d %q has no SQL", m.version, m.name)
		}
	}
	return nil
}

// migrate brings the database on conn from its user_version up to the last
// step of ms. The step that starts a new file also records
// meta.created_by=ferry, so a file with Ferry tables always carries it.
func migrate(ctx context.Context, db *sql.DB, path string, ms []migration) error {
	if err := checkMigrations(ms); err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate catalog: %w", err)
	}
	defer conn.Close()
	var cur int
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&cur); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if latest := latestVersion(ms); cur > latest {
		return fmt.Errorf("catalog %s: schema version %d, this ferry knows up to %d: %w; upgrade ferry",
			path, cur, latest, ErrNewerSchema)
	}
	for _, m := range ms {
		if m.version <= cur {
			continue
		}
		if err := applyMigration(ctx, conn, m, cur == 0); err != nil {
			return err
		}
		cur = m.version
	}
	return nil
}

// applyMigration runs one step and its version bump in one transaction.
func applyMigration(ctx context.Context, conn *sql.Conn, m migration, first bool) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration %d: %w", m.version, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("apply migration %d (%s): %w", m.version, m.name, err)
	}
	if first {
		now := time.Now().UTC().Format(time.RFC3339Nano)
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO meta(key, value) VALUES ('created_by', 'ferry'), ('created_at', ?)
			 ON CONFLICT(key) DO NOTHING`, now); err != nil {
			return fmt.Errorf("record catalog origin: %w", err)
		}
	}
	// PRAGMA takes no bound parameters; the version is an int we own.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
		return fmt.Errorf("set schema version %d: %w", m.version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migration %d: %w", m.version, err)
	}
	return nil
}
