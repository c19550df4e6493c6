package local

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/ferry-project/ferry/fs"
)

// Errors of the Sink. All are permanent (see Sink.IsPermanent).
var (
	// ErrInvalidKey reports a key that cannot name a file under the root:
	// empty, absolute, with an empty, "." or ".." segment, a NUL byte, a
	// segment longer than 255 bytes, or inside the reserved staging folder.
	ErrInvalidKey = errors.New("invalid key")
	// ErrKeyConflict reports a key that clashes with what is on disk: its
	// parent path is a file, or a directory sits at the key itself.
	ErrKeyConflict = errors.New("key conflicts with existing path")
	// ErrInvalidRequest reports arguments a sink will never accept (a bad
	// part number or size, a part list that does not match the upload).
	ErrInvalidRequest = errors.New("invalid request")
)

// stagingDir is the root-level folder holding multipart uploads in
// progress; keys cannot write into it.
const stagingDir = ".ferry-uploads"

// tempPrefix starts the name of every temporary file the sink writes next
// to its target.
const tempPrefix = ".ferry-tmp-"

// sinkState reports whether name in the tree directory dir is the state of
// a Sink writing into this directory — the root's stagingDir or a
// tempPrefix file — rather than an object: the Tree leaves such entries
// out, so a directory that was (or is being) a destination is read back as
// just the objects that were stored in it.
func sinkState(dir, name string) bool {
	return (dir == "" && name == stagingDir) || strings.HasPrefix(name, tempPrefix)
}

// checkKey validates key and returns its OS path under root. A key ending
// in '/' (an object store's folder marker) is valid when the rest is: it
// names a directory.
func checkKey(root, key string) (string, error) {
	body := strings.TrimSuffix(key, "/")
	switch {
	case key == "" || body == "":
		return "", fmt.Errorf("%w: empty key", ErrInvalidKey)
	case strings.ContainsRune(key, 0):
		return "", fmt.Errorf("%w %q: contains a NUL byte", ErrInvalidKey, key)
	case strings.HasPrefix(key, "/"):
		return "", fmt.Errorf("%w %q: absolute keys would escape the destination root", ErrInvalidKey, key)
	}
	for i, seg := range strings.Split(body, "/") {
		switch {
		case seg == "":
			return "", fmt.Errorf("%w %q: empty path segment (\"//\") cannot be a file name", ErrInvalidKey, key)
		case seg == "." || seg == "..":
			return "", fmt.Errorf("%w %q: segment %q would escape or alias a directory", ErrInvalidKey, key, seg)
		case len(seg) > fs.MaxNameLen:
			return "", fmt.Errorf("%w %q: segment of %d bytes exceeds the %d-byte file name limit", ErrInvalidKey, key, len(seg), fs.MaxNameLen)
		case i == 0 && seg == stagingDir:
			return "", fmt.Errorf("%w %q: %s is reserved for uploads in progress", ErrInvalidKey, key, stagingDir)
		}
	}
	return filepath.Join(root, filepath.FromSlash(body)), nil
}

// ensureParent creates the parent directories of the file at abs. A parent
// that exists as a file gives ErrKeyConflict, as does a directory at abs.
func ensureParent(abs, key string) error {
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EEXIST) {
			return fmt.Errorf("%w: a parent of key %q is an existing file", ErrKeyConflict, key)
		}
		return fmt.Errorf("create parent of %q: %w", key, err)
	}
	if fi, err := os.Lstat(abs); err == nil && fi.IsDir() {
		return fmt.Errorf("%w: a directory exists at key %q", ErrKeyConflict, key)
	}
	return nil
}

// syncDir fsyncs a directory so a rename into it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %q: %w", dir, err)
	}
	return nil
}
