package catalog

import (
	"context"
	"fmt"
	"os"
)

// Snapshot writes a consistent copy of the master's database to path, a
// file that must not exist yet, with SQLite's VACUUM INTO on a read
// connection: one read transaction, so writers go on meanwhile and the copy
// is the database as of one commit (never a copy of the live file and its
// WAL). The copy is a complete catalog file of mode 0600; secrets in it stay
// sealed with the master's key, which is not part of it.
func (m *MasterDB) Snapshot(ctx context.Context, path string) error {
	r, err := m.reader()
	if err != nil {
		return err
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("snapshot master catalog: %s exists", path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("snapshot master catalog: %w", err)
	}
	f.Close() // VACUUM INTO takes an empty file and keeps its mode
	if _, err := r.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		os.Remove(path)
		return fmt.Errorf("snapshot master catalog into %s: %w", path, err)
	}
	return nil
}

// Checkpoint copies the WAL into the database file and truncates it, so the
// file alone holds every commit (a stopping master calls it before Close,
// which checkpoints again as its connection ends).
func (m *MasterDB) Checkpoint(ctx context.Context) error {
	if err := m.st.usable(true); err != nil {
		return err
	}
	var busy, logFrames, done int
	if err := m.st.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
		return fmt.Errorf("checkpoint master catalog: %w", err)
	}
	if busy != 0 {
		return fmt.Errorf("checkpoint master catalog: a reader kept the WAL busy")
	}
	return nil
}

// Ping reports whether the catalog is open and answers a read: the
// master's readiness.
func (m *MasterDB) Ping(ctx context.Context) error {
	r, err := m.reader()
	if err != nil {
		return err
	}
	var n int
	if err := r.QueryRowContext(ctx, `SELECT count(*) FROM jobs`).Scan(&n); err != nil {
		return fmt.Errorf("read master catalog: %w", err)
	}
	return nil
}
