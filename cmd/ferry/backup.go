package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
)

// Snapshots of the master's database are objects named
// ferry-master-<UTC time>.db at the backup location: their names sort by
// time, so the newest is the greatest.
const (
	snapshotPrefix = "ferry-master-"
	snapshotSuffix = ".db"
	snapshotTime   = "20060102T150405.000Z"
)

// backupSide is how a backup location is reached: FERRY_BACKUP_-prefixed
// variables first, then the usual AWS_* and US3_* ones.
var backupSide = side{envPrefix: "FERRY_BACKUP_", conns: 4}

func masterBackupFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "backup-to", Usage: "write snapshots of the master's database to this location (us3://bucket/prefix, s3://bucket/prefix, /dir; keys from FERRY_BACKUP_*, else AWS_*/US3_*): one at start, then every --backup-every"},
		&cli.DurationFlag{Name: "backup-every", Value: 5 * time.Minute, Usage: "how often to snapshot with --backup-to"},
	}
}

// backups writes snapshots of the master's database to a Sink.
type backups struct {
	db    *catalog.MasterDB
	sink  fs.Sink
	loc   string
	dir   string // where a snapshot is written before it is stored
	every time.Duration
}

// checkBackupFlags refuses --backup-every without --backup-to or of 0 or
// less, before anything is opened.
func checkBackupFlags(c *cli.Context) error {
	switch {
	case c.String("backup-to") == "" && c.IsSet("backup-every"):
		return usageErr("--backup-every needs --backup-to LOCATION")
	case c.Duration("backup-every") <= 0:
		return usageErr("--backup-every %s: must be more than 0 (e.g. 5m)", c.Duration("backup-every"))
	}
	return nil
}

// masterBackups opens --backup-to (nil without it), checking it can be
// written before the master serves anything.
func (e *env) masterBackups(c *cli.Context, db *catalog.MasterDB) (*backups, error) {
	loc := c.String("backup-to")
	if loc == "" {
		return nil, nil
	}
	sink, err := e.openDest(c.Context, loc, backupSide)
	if err != nil {
		return nil, fmt.Errorf("--backup-to: %w", err)
	}
	return &backups{db: db, sink: sink, loc: loc, dir: filepath.Dir(c.String("db")), every: c.Duration("backup-every")}, nil
}

// run stores a snapshot now and then every interval until ctx ends. A
// failed snapshot is logged and tried again at the next interval.
func (b *backups) run(ctx context.Context) {
	tick := time.NewTicker(b.every)
	defer tick.Stop()
	for {
		key, err := b.once(ctx)
		switch {
		case err == nil:
			slog.Info("ferry master: snapshot stored", "at", b.loc, "key", key)
		case ctx.Err() == nil:
			slog.Warn("ferry master: snapshot failed", "at", b.loc, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// once writes one consistent snapshot (catalog.MasterDB.Snapshot) into a
// private temporary directory beside the database and stores it.
func (b *backups) once(ctx context.Context) (string, error) {
	dir, err := os.MkdirTemp(b.dir, ".ferry-backup-")
	if err != nil {
		return "", fmt.Errorf("snapshot: %w", err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "master.db")
	if err := b.db.Snapshot(ctx, file); err != nil {
		return "", err
	}
	key := snapshotPrefix + time.Now().UTC().Format(snapshotTime) + snapshotSuffix
	if err := putFile(ctx, b.sink, key, file); err != nil {
		return "", fmt.Errorf("store snapshot %s at %s: %w", key, b.loc, err)
	}
	return key, nil
}

// putFile stores the file at path as key: in one Put when the Sink takes
// it, else as a multipart upload (aborted on failure).
func putFile(ctx context.Context, sink fs.Sink, key, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size, lim := st.Size(), sink.Limits()
	if lim.MaxSinglePut <= 0 || size <= lim.MaxSinglePut {
		_, err := sink.Put(ctx, key, f, size)
		return err
	}
	part := max(lim.MinPartSize, 64<<20)
	if lim.MaxParts > 0 {
		part = max(part, (size+int64(lim.MaxParts)-1)/int64(lim.MaxParts))
	}
	if lim.MaxPartSize > 0 {
		part = min(part, lim.MaxPartSize)
	}
	up, err := sink.CreateMultipart(ctx, key, size, part)
	if err != nil {
		return err
	}
	var parts []fs.Part
	for n, off := 0, int64(0); off < size; n++ {
		sz := min(up.PartSize, size-off)
		p, err := sink.UploadPart(ctx, key, up.ID, n, io.NewSectionReader(f, off, sz), sz)
		if err != nil {
			_ = sink.AbortMultipart(context.WithoutCancel(ctx), key, up.ID)
			return err
		}
		parts = append(parts, p)
		off += sz
	}
	if _, err := sink.CompleteMultipart(ctx, key, up.ID, parts); err != nil {
		_ = sink.AbortMultipart(context.WithoutCancel(ctx), key, up.ID)
		return err
	}
	return nil
}
