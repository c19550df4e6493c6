package mount

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ferry-project/ferry/fs"
)

// Server is one live mount.
type Server struct {
	srv        *fuse.Server
	mountpoint string
	direct     bool // mounted with mount(2) as root, not through fusermount
	log        *slog.Logger
	done       chan struct{} // closed when the kernel connection has ended

	mu        sync.Mutex
	unmounted bool
}

// Mount serves tree read-only at mountpoint and returns once the kernel
// mount is ready. ctx bounds the mount itself (the root Stat); the mount
// lives until Unmount, an external umount, or the process exits.
//
// With read-ahead on (o.ReadAhead > 0) and as root, the kernel's own
// read-ahead on the mount is 1 MiB from before the first request is
// answered, so even a file opened the instant the mount appears reads with
// it; otherwise it stays at the kernel's 128 KiB. Directory listings use
// READDIRPLUS only for readers that stat the entries (see mountOptions).
//
// As root it mounts with mount(2) (read-only, nosuid, nodev); otherwise it
// needs fusermount3 from the Debian package fuse3. The mount point must be
// an existing directory that is not already a mount point, nor inside a
// local source tree.
func Mount(ctx context.Context, tree fs.Tree, mountpoint string, o Options) (*Server, error) {
	return mountTree(ctx, tree, mountpoint, o, true)
}

// mountTree is Mount; kernelRO false leaves the kernel mount writable so
// that tests reach the nodes' own EROFS answers (as after a fusermount
// fallback).
func mountTree(ctx context.Context, tree fs.Tree, mountpoint string, o Options, kernelRO bool) (*Server, error) {
	o = o.normalized()
	mp, err := filepath.Abs(mountpoint)
	if err != nil {
		return nil, fmt.Errorf("resolve mount point %s: %w", mountpoint, err)
	}
	if err := checkMountpoint(mp); err != nil {
		return nil, err
	}
	if err := checkNotInside(tree, mp); err != nil {
		return nil, err
	}
	// mountinfo lists the mount under its resolved path. Resolve it now:
	// once mounted, resolving it is a request to this very server.
	resolved, err := filepath.EvalSymlinks(mp)
	if err != nil {
		return nil, fmt.Errorf("resolve mount point %s: %w", mp, err)
	}
	direct := os.Geteuid() == 0
	if !direct {
		if _, err := fusermount(); err != nil {
			return nil, err
		}
	}
	root, err := tree.Stat(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("stat source root: %w", err)
	}
	root.Path, root.Mode = "", root.Mode|os.ModeDir

	mctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m := &mountFS{tree: tree, opts: o, log: o.Logger, inos: newInoTable(),
		uid: uint32(os.Getuid()), gid: uint32(os.Getgid()), ctx: mctx, kernelRO: kernelRO}
	m.seqOnly, _ = tree.(fs.SequentialOnly)
	m.ra = newReadAhead(o)
	m.retry = newRetrier(tree, o.RetryTimeout, o.Logger)
	if m.ra.initial > 0 {
		m.ra.budget = newBudget(o.ReadAheadMemory)
	}
	rootNode := &dirNode{base: base{m: m, path: "", ino: rootIno, entry: root, entryAt: time.Now()}}

	raw := gofs.NewNodeFS(rootNode, m.nodeFSOptions(direct))
	if m.ra.initial > 0 {
		raw = &raInitFS{RawFileSystem: raw, mountpoint: resolved, kb: kernelReadAheadKB, log: o.Logger}
	}
	srv, err := fuse.NewServer(raw, mp, m.mountOptions(direct))
	if err != nil {
		cancel()
		if !direct && syscall.Access("/dev/fuse", 6) != nil { // R_OK|W_OK
			return nil, fmt.Errorf("mount %s: %w (/dev/fuse must be readable and writable by this user; on Debian it is mode 0666)", mp, err)
		}
		return nil, fmt.Errorf("mount %s: %w", mp, err)
	}
	s := &Server{srv: srv, mountpoint: mp, direct: direct, log: o.Logger, done: make(chan struct{})}
	go func() {
		srv.Serve()
		cancel()
		close(s.done)
	}()
	if err := srv.WaitMount(); err != nil {
		_ = s.Unmount()
		return nil, fmt.Errorf("mount %s: %w", mp, err)
	}
	o.Logger.Info("mount: mounted", "mountpoint", mp, "direct", direct)
	return s, nil
}

func (m *mountFS) nodeFSOptions(direct bool) *gofs.Options {
	entry, attr := m.opts.EntryTTL, m.opts.AttrTTL
	return &gofs.Options{
		MountOptions:    *m.mountOptions(direct),
		EntryTimeout:    &entry,
		AttrTimeout:     &attr,
		NegativeTimeout: &entry,
		UID:             m.uid,
		GID:             m.gid,
		NullPermissions: true,
		RootStableAttr:  &gofs.StableAttr{Ino: rootIno},
		Logger:          slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
	}
}

func (m *mountFS) mountOptions(direct bool) *fuse.MountOptions {
	level := slog.LevelWarn
	if m.opts.Debug {
		level = slog.LevelDebug
	}
	mo := &fuse.MountOptions{
		FsName: "ferry",
		Name:   "ferry",
		Debug:  m.opts.Debug,
		Logger: slog.NewLogLogger(m.log.Handler(), level),
		// A tree that can only be read in order gets one read at a time,
		// in offset order, from the kernel.
		SyncRead: m.seqOnly != nil,
		// Let the kernel send reads of up to 1 MiB (max_pages 256)
		// instead of 128 KiB.
		MaxWrite: fuse.MAX_KERNEL_WRITE,
		// Replies come from memory (read-ahead buffers, written with
		// writev), never from a file descriptor splice could move.
		DisableSplice: true,
		// READDIRPLUS (a LOOKUP and a node per entry) only when the
		// reader asks for attributes: the kernel sends it for the first
		// batch of a listing and for each batch after the caller stat(2)ed
		// an entry of the directory (ls -l), plain READDIR otherwise
		// (find, ls, os.ReadDir).
		ExtraCapabilities: fuse.CAP_READDIRPLUS_AUTO,
	}
	if direct {
		// mount(2) takes read-only as a flag; if it fails go-fuse falls
		// back to fusermount, where the nodes still answer EROFS.
		mo.DirectMount = true
		mo.DirectMountFlags = syscall.MS_NOSUID | syscall.MS_NODEV
		if m.kernelRO {
			mo.DirectMountFlags |= syscall.MS_RDONLY
		}
	} else if m.kernelRO {
		mo.Options = []string{"ro"}
	}
	return mo
}

// Mountpoint returns the absolute mount point.
func (s *Server) Mountpoint() string { return s.mountpoint }

// Wait blocks until the file system is unmounted (by Unmount or by an
// external umount) and every request has been answered.
func (s *Server) Wait() { <-s.done }

// Unmount detaches the mount. When it is busy (a process has a file open
// or its working directory inside) it retries for a short while, then
// detaches lazily, forcing the FUSE connection closed when running as root
// so that Wait returns. Calling it again after success is a no-op.
func (s *Server) Unmount() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unmounted {
		return nil
	}
	select {
	case <-s.done: // unmounted from outside
		s.unmounted = true
		return nil
	default:
	}
	var err error
	for try := 0; try < 10; try++ {
		if err = s.unmount(false); err == nil || !errors.Is(err, syscall.EBUSY) {
			break
		}
		time.Sleep(time.Duration(try+1) * 20 * time.Millisecond)
	}
	if errors.Is(err, syscall.EBUSY) {
		s.log.Warn("mount: busy, detaching lazily", "mountpoint", s.mountpoint)
		err = s.unmount(true)
	}
	if err != nil {
		return fmt.Errorf("unmount %s: %w", s.mountpoint, err)
	}
	s.unmounted = true
	return nil
}

// unmount runs umount2 (root) or fusermount -u once.
func (s *Server) unmount(lazy bool) error {
	if s.direct {
		flags := 0
		if lazy {
			flags = syscall.MNT_DETACH | syscall.MNT_FORCE
		}
		err := syscall.Unmount(s.mountpoint, flags)
		if err == nil || !errors.Is(err, syscall.EPERM) {
			return err
		}
		// Mounted through the fusermount fallback: unmount the same way.
	}
	bin, err := fusermount()
	if err != nil {
		return err
	}
	args := []string{"-u"}
	if lazy {
		args = append(args, "-z")
	}
	out, err := exec.Command(bin, append(args, s.mountpoint)...).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "busy") {
			return fmt.Errorf("%s: %s: %w", bin, out, syscall.EBUSY)
		}
		return fmt.Errorf("%s: %s: %w", bin, out, err)
	}
	return nil
}
