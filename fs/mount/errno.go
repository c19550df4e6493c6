package mount

import (
	"context"
	"errors"
	"log/slog"
	"syscall"

	"github.com/ferry-project/ferry/fs"
)

// toErrno maps a Tree error to the errno a FUSE request answers:
// ENOENT for fs.ErrNotExist, EACCES for fs.ErrPermission, ENOTDIR/EISDIR
// for the shape errors, EINTR when the request was interrupted, EIO for
// anything else. Errors that become EIO or EACCES are logged once here, with
// the operation and path, since the kernel only ever sees the number.
func toErrno(log *slog.Logger, op, path string, err error) syscall.Errno {
	var errno syscall.Errno
	switch {
	case err == nil:
		return 0
	case errors.Is(err, fs.ErrNotExist):
		return syscall.ENOENT
	case errors.Is(err, fs.ErrNotDir):
		return syscall.ENOTDIR
	case errors.Is(err, fs.ErrIsDir):
		return syscall.EISDIR
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return syscall.EINTR
	case errors.Is(err, fs.ErrPermission):
		errno = syscall.EACCES
	case errors.As(err, &errno) && errno == syscall.EROFS:
		return errno
	default:
		errno = syscall.EIO
	}
	log.Warn("mount: request failed", "op", op, "path", path, "errno", errno.Error(), "err", err)
	return errno
}
