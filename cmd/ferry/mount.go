package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/mount"
	"github.com/ferry-project/ferry/internal/units"
)

// mountCommand is `ferry mount SOURCE MOUNTPOINT`: it serves SOURCE (any
// location open understands) read-only through FUSE in the foreground until
// Ctrl-C or SIGTERM, then unmounts and exits 0. An external `umount` ends it
// too.
func mountCommand(open func(ctx context.Context, uri string) (fs.Tree, error)) *cli.Command {
	return &cli.Command{
		Name:      "mount",
		Usage:     "browse a source read-only through FUSE (ls, cat, sha256sum, rsync -n)",
		ArgsUsage: "SOURCE MOUNTPOINT",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "entry-ttl", Value: mount.DefaultEntryTTL,
				Usage: "how long the kernel caches names (0 disables; directory listings are reused for at least 1s)"},
			&cli.DurationFlag{Name: "attr-ttl", Value: mount.DefaultAttrTTL,
				Usage: "how long the kernel caches sizes and times (0 disables)"},
			&cli.StringFlag{Name: "read-ahead", Value: "8MiB",
				Usage: "first read-ahead window of a sequential reader; grows to --max-read-ahead while reading in order (0 disables)"},
			&cli.StringFlag{Name: "max-read-ahead", Value: "64MiB", Usage: "widest read-ahead window of one open file"},
			&cli.StringFlag{Name: "read-ahead-memory", Value: "512MiB", Usage: "read-ahead buffers of the whole mount at most"},
			&cli.DurationFlag{Name: "retry-timeout", Value: mount.DefaultRetryTimeout,
				Usage: "how long a listing or read that fails transiently (store unreachable, restarting, 5xx) is retried, with backoff, before it answers EIO (0: no retries)"},
			&cli.BoolFlag{Name: "debug", Usage: "log every FUSE request"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usageErr("mount: want SOURCE and MOUNTPOINT, got %d arguments", c.NArg())
			}
			var sizes [3]int64
			for i, name := range []string{"read-ahead", "max-read-ahead", "read-ahead-memory"} {
				v, err := units.ParseSize(c.String(name))
				if err != nil {
					return usageErr("mount: --%s: %v", name, err)
				}
				sizes[i] = v
			}
			retry := c.Duration("retry-timeout")
			if retry < 0 {
				return usageErr("mount: --retry-timeout %s: must be 0 (no retries) or more", retry)
			}
			if err := checkMountFlags(c.Duration("entry-ttl"), c.Duration("attr-ttl"), sizes); err != nil {
				return err
			}
			ra := sizes[0]
			stderr := c.App.ErrWriter
			if stderr == nil {
				stderr = os.Stderr
			}
			o := mount.Options{
				EntryTTL:  cliTTL(c.Duration("entry-ttl")),
				AttrTTL:   cliTTL(c.Duration("attr-ttl")),
				ReadAhead: ra, MaxReadAhead: sizes[1], ReadAheadMemory: sizes[2],
				RetryTimeout: cliTTL(retry),
				Logger:       mountLogger(stderr, c.Bool("debug")),
				Debug:        c.Bool("debug"),
			}
			return runMount(c.Context, open, c.Args().Get(0), c.Args().Get(1), o, stderr)
		},
	}
}

// checkMountFlags refuses cache times below 0 and read-ahead bounds that
// contradict each other: with read-ahead on (sizes[0] > 0), the widest
// window (sizes[1]) must be at least the first one and the mount's memory
// (sizes[2]) at least the widest window.
func checkMountFlags(entryTTL, attrTTL time.Duration, sizes [3]int64) error {
	if entryTTL < 0 {
		return usageErr("mount: --entry-ttl %s: must be 0 (no caching) or more", entryTTL)
	}
	if attrTTL < 0 {
		return usageErr("mount: --attr-ttl %s: must be 0 (no caching) or more", attrTTL)
	}
	ra, maxRA, mem := sizes[0], sizes[1], sizes[2]
	if ra == 0 {
		return nil
	}
	if maxRA < ra {
		return usageErr("mount: --max-read-ahead %s is below --read-ahead %s", units.Bytes(maxRA), units.Bytes(ra))
	}
	if mem < maxRA {
		return usageErr("mount: --read-ahead-memory %s is below --max-read-ahead %s", units.Bytes(mem), units.Bytes(maxRA))
	}
	return nil
}

// runMount mounts, waits for a signal or an external unmount, and unmounts.
func runMount(ctx context.Context, open func(context.Context, string) (fs.Tree, error), src, mp string, o mount.Options, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	tree, err := open(ctx, src)
	if err != nil {
		return fmt.Errorf("open source %s: %w", src, err)
	}
	srv, err := mount.Mount(ctx, tree, mp, o)
	if err != nil {
		return err
	}
	// Status lines are log records in the same format as every other
	// process's (shown whatever the log level).
	status := slog.New(slog.NewTextHandler(stderr, nil))
	status.Info(fmt.Sprintf("mounted %s at %s (read-only); Ctrl-C to unmount", src, mp))
	done := make(chan struct{})
	go func() {
		srv.Wait()
		close(done)
	}()
	select {
	case <-done:
		status.Info(fmt.Sprintf("%s was unmounted", mp))
		return nil
	case <-ctx.Done():
	}
	if err := srv.Unmount(); err != nil {
		return err
	}
	<-done
	status.Info(fmt.Sprintf("unmounted %s", mp))
	return nil
}

// cliTTL maps a flag value to mount.Options: on the command line 0 means
// "no caching" (or "no retries"), which Options spells as a negative
// duration.
func cliTTL(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}

// mountLogger logs warnings to stderr, or everything with --debug.
func mountLogger(w io.Writer, debug bool) *slog.Logger {
	level := slog.LevelWarn
	if debug {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
