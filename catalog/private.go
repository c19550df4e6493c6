package catalog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Modes of the state Ferry writes: catalogs, their -wal, -shm and .lock
// files and the secret key are readable by their owner only, and the
// directories Ferry creates for them are the owner's only. The modes are
// set with chmod after creation, so the process umask cannot widen (or
// narrow) them.
const (
	privateFileMode os.FileMode = 0o600
	privateDirMode  os.FileMode = 0o700
)

// mkdirPrivate creates dir and any missing parents with mode 0700 (set
// explicitly, whatever the umask). Directories that already exist are left
// as they are: their owner chose their mode.
func mkdirPrivate(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("create directory %s: %w", dir, errors.New("a file is in the way"))
		}
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirPrivate(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, privateDirMode); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	if err := os.Chmod(dir, privateDirMode); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	return nil
}

// openPrivate opens (creating when missing) the file at path with flag. A
// file it creates gets mode 0600; an existing file that group or others
// may access is narrowed to 0600 (an older ferry created files 0644).
func openPrivate(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|os.O_CREATE|os.O_EXCL, privateFileMode)
	if errors.Is(err, os.ErrExist) {
		if f, err = os.OpenFile(path, flag, 0); err != nil {
			return nil, err
		}
		if err := narrow(f.Name(), f.Stat); err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(privateFileMode); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// narrow makes the file whose mode stat reports 0600 when group or others
// have any access to it; a missing file is not an error.
func narrow(path string, stat func() (os.FileInfo, error)) error {
	fi, err := stat()
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	return os.Chmod(path, privateFileMode)
}

// privatizeCatalog makes the catalog at abs and its SQLite companions
// (-wal, -shm, -journal) mode 0600 before SQLite opens them, creating an
// empty main file when it is missing (an empty file is an empty database
// to SQLite). SQLite creates the -wal and -shm of a database with the mode
// of its main file, so once the main file is 0600 so are they.
func privatizeCatalog(abs string) error {
	f, err := openPrivate(abs, os.O_RDONLY)
	if err != nil {
		return fmt.Errorf("protect catalog file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("protect catalog file: %w", err)
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		p := abs + suffix
		if err := narrow(p, func() (os.FileInfo, error) { return os.Stat(p) }); err != nil {
			return fmt.Errorf("protect catalog file: %w", err)
		}
	}
	return nil
}
