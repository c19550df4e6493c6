package local_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/local"
)

// settled writes name under a new tree's root and waits until its ctime
// is old enough that opening it for a copy does not wait.
func settled(t *testing.T, data string) (*local.Tree, string) {
	t.Helper()
	root := t.TempDir()
	p := filepath.Join(root, "f")
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	tree, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	return tree, p
}

func openChecked(t *testing.T, tree *local.Tree) fs.File {
	t.Helper()
	e, err := tree.Stat(context.Background(), "f")
	if err != nil {
		t.Fatal(err)
	}
	f, err := tree.OpenEntry(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func checkVersion(f fs.File) error {
	return f.(fs.VersionChecker).CheckVersion(context.Background())
}

// TestFile_CheckVersion: a file read and left alone is still its version;
// written in place (same size), truncated, or replaced under its name, it
// is not, and the error wraps fs.ErrChanged.
func TestFile_CheckVersion(t *testing.T) {
	changes := map[string]func(t *testing.T, p string){
		"written in place": func(t *testing.T, p string) {
			fh, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			if _, err := fh.WriteAt([]byte("X"), 3); err != nil {
				t.Fatal(err)
			}
		},
		"truncated": func(t *testing.T, p string) {
			if err := os.Truncate(p, 2); err != nil {
				t.Fatal(err)
			}
		},
		"replaced": func(t *testing.T, p string) {
			tmp := p + ".new"
			if err := os.WriteFile(tmp, []byte("0123456789"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, p); err != nil {
				t.Fatal(err)
			}
		},
		"removed": func(t *testing.T, p string) {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			tree, p := settled(t, "0123456789")
			f := openChecked(t, tree)
			buf := make([]byte, 10)
			if _, err := f.ReadAt(buf, 0); err != nil {
				t.Fatal(err)
			}
			if err := checkVersion(f); err != nil {
				t.Fatalf("unchanged file: CheckVersion = %v", err)
			}
			change(t, p)
			if err := checkVersion(f); !errors.Is(err, fs.ErrChanged) {
				t.Fatalf("CheckVersion after the file was %s = %v, want fs.ErrChanged", name, err)
			}
		})
	}
}

// TestTree_OpenEntry: an entry whose file changed since it was walked
// does not open for a copy; the current entry does.
func TestTree_OpenEntry(t *testing.T) {
	tree, p := settled(t, "first")
	old, err := tree.Stat(context.Background(), "f")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("second, longer"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := tree.OpenEntry(context.Background(), old); !errors.Is(err, fs.ErrChanged) {
		t.Fatalf("OpenEntry of the walked entry after a rewrite = %v, want fs.ErrChanged", err)
	}
	now, err := tree.Stat(context.Background(), "f")
	if err != nil {
		t.Fatal(err)
	}
	f, err := tree.OpenEntry(context.Background(), now)
	if err != nil {
		t.Fatalf("OpenEntry of the current entry: %v", err)
	}
	f.Close()
}

// TestTree_OpenEntry_BeingWritten: a file written every few milliseconds
// never settles, so opening it for a copy says it is changing instead of
// taking a baseline that a write in the same clock tick could slip past.
func TestTree_OpenEntry_BeingWritten(t *testing.T) {
	tree, p := settled(t, "0123456789")
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			_ = os.WriteFile(p, []byte{byte(i), 1, 2, 3, 4, 5, 6, 7, 8, 9}, 0o644)
		}
	}()
	defer func() { close(stop); <-done }()
	time.Sleep(20 * time.Millisecond)
	// On a loaded machine the writer may be starved past the settling
	// wait, and then the open rightly succeeds; a write between Stat and
	// OpenEntry rightly gives "changed" against the stale entry. Try until
	// a write lands inside the settling wait itself (each try waits at
	// most ~100 ms).
	var err error
	for i := 0; i < 200; i++ {
		var e fs.Entry
		if e, err = tree.Stat(context.Background(), "f"); err != nil {
			t.Fatal(err)
		}
		var f fs.File
		if f, err = tree.OpenEntry(context.Background(), e); err == nil {
			f.Close()
			continue
		}
		if !errors.Is(err, fs.ErrChanged) || strings.Contains(err.Error(), "still being written") {
			break
		}
	}
	if !errors.Is(err, fs.ErrChanged) || !strings.Contains(err.Error(), "still being written") {
		t.Fatalf("OpenEntry of a file being written = %v, want fs.ErrChanged, still being written", err)
	}
}
