//go:build unix

package catalog

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// fileLock is an exclusive flock on a sibling lock file. flock locks belong
// to the open file description, so two opens in one process also exclude
// each other, and the kernel drops the lock if the process dies.
type fileLock struct {
	f *os.File
}

// lockFile takes a non-blocking exclusive flock on path (creating it). It
// returns an error wrapping ErrInUse when someone else holds the lock. The
// lock file is never removed: removing it would let two processes lock two
// different inodes of the same name.
func lockFile(path, dbPath string) (*fileLock, error) {
	f, err := openPrivate(path, os.O_RDWR)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("catalog %s is %w", dbPath, ErrInUse)
		}
		return nil, fmt.Errorf("lock catalog %s: %w", dbPath, err)
	}
	return &fileLock{f: f}, nil
}

// unlock releases the lock and closes the lock file.
func (l *fileLock) unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	if err != nil {
		return fmt.Errorf("unlock catalog: %w", err)
	}
	return nil
}
