//go:build !unix

package catalog

import (
	"fmt"
	"os"
)

// fileLock on systems without flock holds the lock file open only; exclusive
// use is not enforced there.
type fileLock struct {
	f *os.File
}

// lockFile opens (creating) the lock file without locking it.
func lockFile(path, dbPath string) (*fileLock, error) {
	f, err := openPrivate(path, os.O_RDWR)
	if err != nil {
		return nil, fmt.Errorf("open lock file for %s: %w", dbPath, err)
	}
	return &fileLock{f: f}, nil
}

// unlock closes the lock file.
func (l *fileLock) unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("unlock catalog: %w", err)
	}
	return nil
}
