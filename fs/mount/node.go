package mount

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ferry-project/ferry/fs"
)

// mountFS is the state every node of one mount shares.
type mountFS struct {
	tree     fs.Tree
	seqOnly  fs.SequentialOnly // nil unless the tree has the extra
	opts     Options
	ra       readAhead // read-ahead shape and budget shared by open files
	retry    retrier   // retries the tree's transient errors
	log      *slog.Logger
	inos     *inoTable
	uid, gid uint32
	// ctx lives as long as the mount; open files use it for their reads,
	// which outlive the OPEN request.
	ctx context.Context
	// kernelRO makes the kernel mount itself read-only (always, except in
	// tests of the nodes' EROFS answers).
	kernelRO bool
}

// base is what files and directories share: identity and the read-only
// answers to every write-type operation (readonly.go).
type base struct {
	gofs.Inode
	m    *mountFS
	path string
	ino  uint64

	mu      sync.Mutex
	entry   fs.Entry
	entryAt time.Time
}

// OnForget releases the node's inode number once the kernel forgets it.
func (b *base) OnForget() { b.m.inos.release(b.path, b.ino) }

// setEntry records fresh attributes.
func (b *base) setEntry(e fs.Entry) {
	b.mu.Lock()
	b.entry, b.entryAt = e, time.Now()
	b.mu.Unlock()
}

func (b *base) getEntry() (fs.Entry, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.entry, b.entryAt
}

// fillAttr describes e: size and times from the entry, mode 0444 for files
// and 0555 for directories, one link, owned by the mounting user.
func (m *mountFS) fillAttr(e fs.Entry, ino uint64, out *fuse.Attr) {
	out.Ino = ino
	out.Nlink = 1
	out.Owner = fuse.Owner{Uid: m.uid, Gid: m.gid}
	if e.IsDir() {
		out.Mode = syscall.S_IFDIR | 0o555
		out.Size = 4096
	} else {
		out.Mode = syscall.S_IFREG | 0o444
		out.Size = uint64(max(e.Size, 0))
	}
	out.Blksize = 4096
	out.Blocks = (out.Size + 511) / 512
	if !e.ModTime.IsZero() {
		out.SetTimes(&e.ModTime, &e.ModTime, &e.ModTime)
	}
}

// dirNode is a directory; its children come from a cached listing.
type dirNode struct {
	base
	cache dirCache
}

// fileNode is a regular file.
type fileNode struct {
	base
	// openVersion is the Entry.Version seen by the last Open; an Open that
	// sees the same version lets the kernel keep its page cache.
	openVersion string
}

var (
	_ gofs.NodeLookuper    = (*dirNode)(nil)
	_ gofs.NodeReaddirer   = (*dirNode)(nil)
	_ gofs.NodeGetattrer   = (*dirNode)(nil)
	_ gofs.NodeStatfser    = (*dirNode)(nil)
	_ gofs.NodeOnForgetter = (*dirNode)(nil)
	_ gofs.NodeGetattrer   = (*fileNode)(nil)
	_ gofs.NodeOpener      = (*fileNode)(nil)
	_ gofs.NodeOnForgetter = (*fileNode)(nil)
)

// newNode builds the node for a listed entry.
func (m *mountFS) newNode(e fs.Entry, ino uint64) (gofs.InodeEmbedder, uint32) {
	now := time.Now()
	if e.IsDir() {
		return &dirNode{base: base{m: m, path: e.Path, ino: ino, entry: e, entryAt: now}}, syscall.S_IFDIR
	}
	return &fileNode{base: base{m: m, path: e.Path, ino: ino, entry: e, entryAt: now}}, syscall.S_IFREG
}

// Lookup finds name in the directory's listing (listing it if the cached one
// is older than the entry TTL). A child the kernel already knows keeps its
// node, with refreshed attributes.
func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	l, err := d.cache.get(ctx, d.m, d.path)
	if err != nil {
		return nil, toErrno(d.m.log, "lookup", d.path, err)
	}
	ch, ok := l.find(name)
	if !ok {
		return nil, syscall.ENOENT
	}
	if in := d.GetChild(name); in != nil {
		if n := reusable(in, ch.entry); n != nil {
			n.setEntry(ch.entry)
			d.m.fillAttr(ch.entry, n.ino, &out.Attr)
			return in, 0
		}
	}
	ino := d.m.inos.acquire(ch.entry.Path)
	ops, mode := d.m.newNode(ch.entry, ino)
	d.m.fillAttr(ch.entry, ino, &out.Attr)
	return d.NewInode(ctx, ops, gofs.StableAttr{Mode: mode, Ino: ino}), 0
}

// reusable returns the base of an existing child node when it still
// describes e (same path, same kind).
func reusable(in *gofs.Inode, e fs.Entry) *base {
	switch n := in.Operations().(type) {
	case *dirNode:
		if e.IsDir() && n.path == e.Path {
			return &n.base
		}
	case *fileNode:
		if !e.IsDir() && n.path == e.Path {
			return &n.base
		}
	}
	return nil
}

// Readdir lists the directory from its cached listing.
func (d *dirNode) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	l, err := d.cache.get(ctx, d.m, d.path)
	if err != nil {
		return nil, toErrno(d.m.log, "readdir", d.path, err)
	}
	parent := uint64(rootIno)
	if d.path != "" {
		parent = d.m.inos.peek(parentPath(d.path))
	}
	dots := []fuse.DirEntry{
		{Name: ".", Mode: syscall.S_IFDIR, Ino: d.ino},
		{Name: "..", Mode: syscall.S_IFDIR, Ino: parent},
	}
	return &dirStream{m: d.m, dots: dots, children: l.children}, 0
}

// parentPath returns the tree path of p's parent directory.
func parentPath(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

// Getattr answers from the directory's entry (directories have no
// attributes worth a request to the store).
func (d *dirNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	e, _ := d.getEntry()
	d.m.fillAttr(e, d.ino, &out.Attr)
	return 0
}

// Statfs reports an empty, read-only file system with 255-byte names.
func (d *dirNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	*out = fuse.StatfsOut{Bsize: 4096, Frsize: 4096, NameLen: fs.MaxNameLen}
	return 0
}

// Getattr answers from the file's entry while it is younger than the
// attribute TTL, and asks the tree (Stat, retried) otherwise.
func (n *fileNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	e, at := n.getEntry()
	if time.Since(at) >= n.m.opts.AttrTTL {
		var fresh fs.Entry
		err := n.m.retry.do(ctx, n.m.retry.deadline(), "stat", n.path, func() (err error) {
			fresh, err = n.m.tree.Stat(ctx, n.path)
			return err
		})
		if err != nil {
			return toErrno(n.m.log, "stat", n.path, err)
		}
		if !fresh.IsDir() {
			n.setEntry(fresh)
			e = fresh
		}
	}
	n.m.fillAttr(e, n.ino, &out.Attr)
	return 0
}

// dirStream walks "." and ".." and then a listing snapshot.
type dirStream struct {
	m        *mountFS
	dots     []fuse.DirEntry
	children []child
}

func (s *dirStream) HasNext() bool { return len(s.dots)+len(s.children) > 0 }

func (s *dirStream) Next() (fuse.DirEntry, syscall.Errno) {
	if len(s.dots) > 0 {
		d := s.dots[0]
		s.dots = s.dots[1:]
		return d, 0
	}
	ch := s.children[0]
	s.children = s.children[1:]
	mode := uint32(syscall.S_IFREG)
	if ch.entry.IsDir() {
		mode = syscall.S_IFDIR
	}
	return fuse.DirEntry{Name: ch.name, Mode: mode, Ino: s.m.inos.peek(ch.entry.Path)}, 0
}

func (s *dirStream) Close() {}
