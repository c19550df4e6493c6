package mount

import (
	"context"
	"fmt"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ferry-project/ferry/fs"
)

// Open opens the file for reading; any write access (O_WRONLY, O_RDWR,
// O_TRUNC) answers EROFS. The kernel keeps its page cache of the file when
// the entry's Version is the one seen by the previous Open.
func (n *fileNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY || flags&syscall.O_TRUNC != 0 {
		return nil, 0, syscall.EROFS
	}
	// The file's reads outlive this request, so it gets a context of its
	// own (ended on Release or unmount); an interrupted OPEN still cancels
	// it while tree.Open runs or waits to be retried.
	fctx, cancel := context.WithCancel(n.m.ctx)
	stop := context.AfterFunc(ctx, cancel)
	var f fs.File
	err := n.m.retry.do(fctx, n.m.retry.deadline(), "open", n.path, func() (err error) {
		f, err = n.m.tree.Open(fctx, n.path)
		return err
	})
	if !stop() && err == nil {
		f.Close()
		err = fmt.Errorf("open file: %w", context.Canceled)
	}
	if err != nil {
		cancel()
		return nil, 0, toErrno(n.m.log, "open", n.path, err)
	}
	e, _ := n.getEntry()
	var fuseFlags uint32
	n.mu.Lock()
	if e.Version != "" && e.Version == n.openVersion {
		fuseFlags |= fuse.FOPEN_KEEP_CACHE
	}
	n.openVersion = e.Version
	n.mu.Unlock()
	seqOnly := n.m.seqOnly != nil && n.m.seqOnly.SequentialOnly(n.path)
	return newHandle(fctx, f, cancel, n.path, e.Size, n.m.ra, seqOnly, n.m.retry, n.m.log), fuseFlags, 0
}
