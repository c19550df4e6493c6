package mount

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ferry-project/ferry/fs"
)

// nonRootEnv names the mount point when the test binary runs as the
// non-root helper of TestMount_NonRoot.
const nonRootEnv = "FERRY_MOUNT_NONROOT_MOUNTPOINT"

func TestMain(m *testing.M) {
	if mp := os.Getenv(nonRootEnv); mp != "" {
		if err := nonRootMount(mp); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		fmt.Println("helper: ok")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// nonRootMount mounts a small tree through fusermount3, checks it, and
// unmounts it.
func nonRootMount(mp string) error {
	tree := &memTree{
		dirs:  map[string][]fs.Entry{"": {{Path: "hello.txt", Size: 6, Mode: 0o644, Version: "v1"}}},
		files: map[string][]byte{"hello.txt": []byte("hello\n")},
	}
	s, err := Mount(context.Background(), tree, mp, DefaultOptions())
	if err != nil {
		return err
	}
	defer s.Unmount()
	b, err := os.ReadFile(filepath.Join(mp, "hello.txt"))
	if err != nil || string(b) != "hello\n" {
		return fmt.Errorf("read through the mount: %q, %v", b, err)
	}
	if err := os.WriteFile(filepath.Join(mp, "new"), nil, 0o644); !errors.Is(err, syscall.EROFS) {
		return fmt.Errorf("write: %v, want EROFS", err)
	}
	if err := s.Unmount(); err != nil {
		return err
	}
	s.Wait()
	return nil
}

// TestMount_NonRoot mounts as an unprivileged user, which goes through
// fusermount3 instead of mount(2).
func TestMount_NonRoot(t *testing.T) {
	if _, err := exec.LookPath("fusermount3"); err != nil {
		t.Skip("fusermount3 is not installed (Debian package fuse3): the non-root mount path cannot run here")
	}
	if st, err := os.Stat("/dev/fuse"); err != nil || st.Mode().Perm()&0o006 != 0o006 {
		t.Skipf("/dev/fuse is not open to other users here (%v): fusermount3 cannot mount for a non-root user", st.Mode())
	}
	if os.Geteuid() != 0 {
		if err := nonRootMount(t.TempDir()); err != nil {
			t.Fatal(err)
		}
		return
	}
	// As root: run this test binary again as nobody.
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // the test's temp dirs are 0700
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "mount.test")
	copyFile(t, os.Args[0], bin)
	mp := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(mp, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), nonRootEnv+"="+mp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "helper: ok") {
		_ = exec.Command("fusermount3", "-u", "-z", mp).Run()
		t.Fatalf("non-root mount: %v\n%s", err, out)
	}
	if mounted(t, mp) {
		t.Error("still mounted after the non-root helper unmounted")
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
