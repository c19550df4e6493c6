package local

import (
	"context"
	"fmt"
	iofs "io/fs"
	"os"
	"syscall"
	"time"

	"github.com/ferry-project/ferry/fs"
)

// racyWindow is how close to now a file's ctime may be before the file is
// treated as possibly still being written within one timestamp tick: the
// kernel stamps mtime and ctime from a coarse clock (a few milliseconds), so
// a write in the same tick as the last one leaves both unchanged. Opening
// such a file waits the window out before the baseline is taken, so every
// later write moves ctime.
const racyWindow = 30 * time.Millisecond

// file is an open local file that knows the version it was opened as
// (fs.VersionChecker): reads are plain preads, and CheckVersion proves
// afterwards that nobody wrote, truncated or replaced the file meanwhile.
type file struct {
	*os.File
	abs  string
	base stamp
}

var (
	_ fs.File           = (*file)(nil)
	_ fs.VersionChecker = (*file)(nil)
)

// stamp is what identifies one version of a local file: any write moves
// mtime and ctime, a truncate moves size, a replacement moves the inode.
type stamp struct {
	size         int64
	mtime, ctime int64 // Unix nanoseconds
	dev, ino     uint64
}

func stampOf(fi iofs.FileInfo) stamp {
	s := stamp{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ctime = time.Unix(st.Ctim.Sec, st.Ctim.Nsec).UnixNano()
		s.dev, s.ino = uint64(st.Dev), st.Ino
	}
	return s
}

// version renders the stamp as Entry.Version does.
func (s stamp) version() string { return versionOf(s.mtime, s.size) }

// openFile opens abs and takes its baseline stamp. want, when not empty,
// is the Version the caller walked: a file that is no longer that version,
// or that is still being written after its racy window was waited out a
// few times (see racyWindow), gives an error wrapping fs.ErrChanged.
func openFile(ctx context.Context, abs, p, want string) (*file, error) {
	// O_NONBLOCK: should a FIFO replace the file after Stat, opening it
	// must not hang.
	f, err := os.OpenFile(abs, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open %q: %w", p, mapErr(err))
	}
	lf := &file{File: f, abs: abs}
	waits := 0
	if want != "" {
		waits = racyWaits
	}
	if err := lf.baseline(ctx, waits); err != nil {
		f.Close()
		return nil, fmt.Errorf("open %q: %w", p, err)
	}
	if want != "" && lf.base.version() != want {
		f.Close()
		return nil, fmt.Errorf("open %q: now version %s, walked as %s: %w", p, lf.base.version(), want, fs.ErrChanged)
	}
	return lf, nil
}

// racyWaits is how often a copy's open waits out a racy ctime before it
// counts the file as still being written.
const racyWaits = 3

// baseline takes the stamp every later CheckVersion compares with. With
// waits > 0 (a copy), a ctime younger than racyWindow is waited out up to
// waits times, so every later write moves ctime; a file still that young
// then is being written and gives an error wrapping fs.ErrChanged. With
// waits == 0 (a reader that checks nothing, like the mount) no time is spent.
func (f *file) baseline(ctx context.Context, waits int) error {
	for i := 0; ; i++ {
		fi, err := f.File.Stat()
		if err != nil {
			return fmt.Errorf("stat: %w", err)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%v is not a regular file: %w", fi.Mode().Type(), fs.ErrNotExist)
		}
		f.base = stampOf(fi)
		age := time.Since(time.Unix(0, f.base.ctime))
		if waits == 0 || age >= racyWindow || age < -time.Second {
			return nil // settled, not asked to wait, or a clock we cannot judge (a skewed NAS)
		}
		if i == waits {
			return fmt.Errorf("still being written (changed %s ago): %w", age.Round(time.Millisecond), fs.ErrChanged)
		}
		t := time.NewTimer(racyWindow - age)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// CheckVersion reports whether the file is still the version it was opened
// as, through the open descriptor (written or truncated in place) and at
// its path (replaced by another file).
func (f *file) CheckVersion(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := f.File.Stat()
	if err != nil {
		return fmt.Errorf("check version of %s: %w", f.abs, err)
	}
	if now := stampOf(fi); now != f.base {
		return fmt.Errorf("check version of %s: %s: %w", f.abs, describeChange(f.base, now), fs.ErrChanged)
	}
	fi, err = os.Stat(f.abs)
	if err != nil {
		return fmt.Errorf("check version of %s: removed or unreadable (%v): %w", f.abs, err, fs.ErrChanged)
	}
	if now := stampOf(fi); now != f.base {
		return fmt.Errorf("check version of %s: replaced (%s): %w", f.abs, describeChange(f.base, now), fs.ErrChanged)
	}
	return nil
}

// describeChange names what moved between two stamps.
func describeChange(was, now stamp) string {
	switch {
	case was.dev != now.dev || was.ino != now.ino:
		return "another file now has its name"
	case was.size != now.size:
		return fmt.Sprintf("size %d, was %d", now.size, was.size)
	case was.mtime != now.mtime:
		return "modified while read"
	default:
		return "changed while read (ctime moved)"
	}
}
