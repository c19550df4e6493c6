package azblob

import (
	"bytes"
	"context"
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/ferry-project/ferry/fs/fstest"
	"github.com/ferry-project/ferry/fs/mount"
	"github.com/ferry-project/ferry/test/azuritetest"
)

// TestStore_Mount serves a container through the kernel's FUSE like every
// other source: the mounted tree holds exactly the fixture, byte for byte,
// and a blob in the Archive tier answers EIO at once (not after the
// mount's outage retries), never stale or empty bytes.
func TestStore_Mount(t *testing.T) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("no /dev/fuse")
	}
	srv := azuritetest.Start(t)
	srv.CreateContainer(t, "mnt")
	files := fstest.Fixture()
	upload(t, srv, "mnt", files)
	upload(t, srv, "mnt", map[string][]byte{"cold/frozen.bin": []byte("ice")})
	ctx := context.Background()
	if _, err := srv.Client().NewContainerClient("mnt").NewBlobClient("cold/frozen.bin").SetTier(ctx, blob.AccessTierArchive, nil); err != nil {
		t.Fatal(err)
	}
	st := newStore(t, srv, "mnt", "")
	s, err := mount.Mount(ctx, st, t.TempDir(), mount.DefaultOptions())
	if err != nil {
		if os.Geteuid() != 0 {
			t.Skipf("mount as non-root: %v", err)
		}
		t.Fatalf("Mount: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Unmount(); err != nil {
			t.Errorf("Unmount: %v", err)
			_ = syscall.Unmount(s.Mountpoint(), syscall.MNT_DETACH|syscall.MNT_FORCE)
		}
		s.Wait()
	})
	mp := s.Mountpoint()
	seen := 0
	err = filepath.WalkDir(mp, func(p string, d iofs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(mp, p)
		if rel == "cold/frozen.bin" {
			return nil
		}
		want, ok := files[rel]
		if !ok {
			t.Errorf("mount shows %q, which is not in the fixture", rel)
			return nil
		}
		seen++
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("read %s through the mount: %d bytes, %v; want the %d uploaded", rel, len(got), err, len(want))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk the mount: %v", err)
	}
	if seen != len(files) {
		t.Errorf("mount shows %d of the %d fixture files", seen, len(files))
	}
	start := time.Now()
	_, err = os.ReadFile(filepath.Join(mp, "cold/frozen.bin"))
	if !errors.Is(err, syscall.EIO) {
		t.Errorf("read of an archived blob through the mount = %v, want EIO", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("read of an archived blob took %s: it was retried as if transient", d)
	}
}
