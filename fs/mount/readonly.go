package mount

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Every write-type operation answers EROFS. The kernel mount is also
// read-only (MS_RDONLY / "ro"), so most of these are never reached; they
// stay as a second line (go-fuse's own defaults for Unlink and Rmdir would
// report success).

var (
	_ gofs.NodeSetattrer      = (*base)(nil)
	_ gofs.NodeSetxattrer     = (*base)(nil)
	_ gofs.NodeRemovexattrer  = (*base)(nil)
	_ gofs.NodeMkdirer        = (*base)(nil)
	_ gofs.NodeMknoder        = (*base)(nil)
	_ gofs.NodeLinker         = (*base)(nil)
	_ gofs.NodeSymlinker      = (*base)(nil)
	_ gofs.NodeCreater        = (*base)(nil)
	_ gofs.NodeTmpfiler       = (*base)(nil)
	_ gofs.NodeUnlinker       = (*base)(nil)
	_ gofs.NodeRmdirer        = (*base)(nil)
	_ gofs.NodeRenamer        = (*base)(nil)
	_ gofs.NodeWriter         = (*base)(nil)
	_ gofs.NodeAllocater      = (*base)(nil)
	_ gofs.NodeCopyFileRanger = (*base)(nil)
)

func (*base) Setattr(context.Context, gofs.FileHandle, *fuse.SetAttrIn, *fuse.AttrOut) syscall.Errno {
	return syscall.EROFS
}

// Getxattr and Listxattr answer ENOSYS, which the kernel remembers for the
// whole mount: no extended-attribute requests after the first (trees have
// none), while Setxattr and Removexattr still answer EROFS.
func (*base) Getxattr(context.Context, string, []byte) (uint32, syscall.Errno) {
	return 0, syscall.ENOSYS
}

func (*base) Listxattr(context.Context, []byte) (uint32, syscall.Errno) { return 0, syscall.ENOSYS }

func (*base) Setxattr(context.Context, string, []byte, uint32) syscall.Errno { return syscall.EROFS }

func (*base) Removexattr(context.Context, string) syscall.Errno { return syscall.EROFS }

func (*base) Mkdir(context.Context, string, uint32, *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (*base) Mknod(context.Context, string, uint32, uint32, *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (*base) Link(context.Context, gofs.InodeEmbedder, string, *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (*base) Symlink(context.Context, string, string, *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (*base) Create(context.Context, string, uint32, uint32, *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EROFS
}

func (*base) Tmpfile(context.Context, uint32, uint32, *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EROFS
}

func (*base) Unlink(context.Context, string) syscall.Errno { return syscall.EROFS }

func (*base) Rmdir(context.Context, string) syscall.Errno { return syscall.EROFS }

func (*base) Rename(context.Context, string, gofs.InodeEmbedder, string, uint32) syscall.Errno {
	return syscall.EROFS
}

func (*base) Write(context.Context, gofs.FileHandle, []byte, int64) (uint32, syscall.Errno) {
	return 0, syscall.EROFS
}

func (*base) Allocate(context.Context, gofs.FileHandle, uint64, uint64, uint32) syscall.Errno {
	return syscall.EROFS
}

func (*base) CopyFileRange(context.Context, gofs.FileHandle, uint64, *gofs.Inode, gofs.FileHandle, uint64, uint64, uint64) (uint32, syscall.Errno) {
	return 0, syscall.EROFS
}
