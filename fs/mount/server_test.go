package mount

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ferry-project/ferry/fs"
)

func mounted(t *testing.T, mp string) bool {
	t.Helper()
	busy, err := isMountpoint(mp)
	if err != nil {
		t.Fatal(err)
	}
	return busy
}

func TestMount_MountpointErrors(t *testing.T) {
	src := t.TempDir()
	fixture(t, src)
	tree := localTree(t, src)
	ctx := context.Background()

	missing := filepath.Join(t.TempDir(), "missing")
	_, err := Mount(ctx, tree, missing, DefaultOptions())
	if err == nil || err.Error() != "mount point "+missing+" does not exist" {
		t.Errorf("missing mount point: %v", err)
	}
	_, err = Mount(ctx, tree, filepath.Join(src, "plain.txt"), DefaultOptions())
	if err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("file as mount point: %v", err)
	}
	_, mp := mountT(t, tree, DefaultOptions())
	_, err = Mount(ctx, tree, mp, DefaultOptions())
	if err == nil || !strings.Contains(err.Error(), "mount point "+mp+" is busy") {
		t.Errorf("mounting twice: %v", err)
	}
	if _, err := os.Stat(filepath.Join(mp, "plain.txt")); err != nil {
		t.Errorf("the first mount broke after a refused second mount: %v", err)
	}
	_, err = Mount(ctx, tree, filepath.Join(src, "emptydir"), DefaultOptions())
	if err == nil || !strings.Contains(err.Error(), "is inside the source") {
		t.Errorf("mount point inside the source: %v", err)
	}
	// Mounting over a non-empty directory is allowed (and hides it).
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "hidden.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mountAt(t, tree, full, DefaultOptions(), true)
	if _, err := os.Stat(filepath.Join(full, "nested/a/b/c/deep.txt")); err != nil {
		t.Errorf("mount over a non-empty directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(full, "hidden.txt")); !os.IsNotExist(err) {
		t.Errorf("the covered directory's file still shows: %v", err)
	}
}

func TestMount_SourceRootError(t *testing.T) {
	tree := &memTree{}
	gone := &rootlessTree{tree}
	_, err := Mount(context.Background(), gone, t.TempDir(), DefaultOptions())
	if err == nil || !strings.Contains(err.Error(), "stat source root") {
		t.Errorf("missing source root: %v", err)
	}
}

// rootlessTree fails Stat of its root, like a bucket that does not exist.
type rootlessTree struct{ *memTree }

func (r *rootlessTree) Stat(ctx context.Context, p string) (fs.Entry, error) {
	return fs.Entry{}, errors.New("no such bucket")
}

func TestServer_Unmount(t *testing.T) {
	src := t.TempDir()
	fixture(t, src)
	s, mp := mountT(t, localTree(t, src), DefaultOptions())
	if _, err := os.ReadFile(filepath.Join(mp, "plain.txt")); err != nil {
		t.Fatal(err)
	}
	if !mounted(t, mp) {
		t.Fatal("mount point not listed as mounted")
	}
	if err := s.Unmount(); err != nil {
		t.Fatalf("Unmount while idle: %v", err)
	}
	s.Wait()
	if mounted(t, mp) {
		t.Error("still mounted after Unmount")
	}
	if _, err := os.Stat(filepath.Join(mp, "plain.txt")); !os.IsNotExist(err) {
		t.Errorf("mount point still shows the tree: %v", err)
	}
	if err := s.Unmount(); err != nil {
		t.Errorf("second Unmount: %v", err)
	}
}

func TestServer_UnmountBusy(t *testing.T) {
	src := t.TempDir()
	fixture(t, src)
	s, mp := mountT(t, localTree(t, src), DefaultOptions())
	f, err := os.Open(filepath.Join(mp, "big/random.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Read(make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	if err := s.Unmount(); err != nil {
		t.Fatalf("Unmount with an open file: %v", err)
	}
	s.Wait() // returns: the connection was forced closed
	if mounted(t, mp) {
		t.Error("still mounted after a busy Unmount")
	}
	if _, err := io.ReadAll(f); err == nil {
		t.Error("reading a file of a forcibly unmounted tree succeeded")
	}
}

func TestServer_ExternalUmount(t *testing.T) {
	src := t.TempDir()
	fixture(t, src)
	s, mp := mountT(t, localTree(t, src), DefaultOptions())
	if _, err := os.Stat(filepath.Join(mp, "plain.txt")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Unmount(mp, 0); err != nil {
		t.Fatalf("umount: %v", err)
	}
	s.Wait() // returns once the kernel ends the connection
	if err := s.Unmount(); err != nil {
		t.Errorf("Unmount after an external umount: %v", err)
	}
}

func TestFusermount_Missing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := fusermount()
	if err == nil || !strings.Contains(err.Error(), "fusermount3") || !strings.Contains(err.Error(), "fuse3") {
		t.Errorf("fusermount() with no helper on PATH: %v, want a message naming the Debian package fuse3", err)
	}
}
