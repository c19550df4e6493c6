package mount

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestMount_ReadOnly runs every write-type operation against a mount whose
// kernel mount is read-only (the normal case) and against one whose kernel
// mount is writable, where the nodes themselves must answer EROFS.
func TestMount_ReadOnly(t *testing.T) {
	for _, kernelRO := range []bool{true, false} {
		name := map[bool]string{true: "kernel-ro", false: "nodes"}[kernelRO]
		t.Run(name, func(t *testing.T) {
			src := t.TempDir()
			files := fixture(t, src)
			_, mp := mountAt(t, localTree(t, src), t.TempDir(), DefaultOptions(), kernelRO)
			in := func(p string) string { return filepath.Join(mp, p) }
			ops := map[string]func() error{
				"WriteFile new": func() error { return os.WriteFile(in("new.txt"), []byte("x"), 0o644) },
				"Create existing": func() error {
					f, err := os.Create(in("plain.txt"))
					if err == nil {
						f.Close()
					}
					return err
				},
				"OpenFile O_RDWR": func() error {
					f, err := os.OpenFile(in("plain.txt"), os.O_RDWR, 0)
					if err == nil {
						f.Close()
					}
					return err
				},
				"OpenFile O_WRONLY|O_APPEND": func() error {
					f, err := os.OpenFile(in("plain.txt"), os.O_WRONLY|os.O_APPEND, 0)
					if err == nil {
						f.Close()
					}
					return err
				},
				"Mkdir":       func() error { return os.Mkdir(in("newdir"), 0o755) },
				"Remove file": func() error { return os.Remove(in("plain.txt")) },
				"Remove dir":  func() error { return os.Remove(in("emptydir")) },
				"Rename":      func() error { return os.Rename(in("plain.txt"), in("renamed.txt")) },
				"Rename dir":  func() error { return os.Rename(in("nested"), in("a/nested")) },
				"Chmod":       func() error { return os.Chmod(in("plain.txt"), 0o777) },
				"Chtimes":     func() error { return os.Chtimes(in("plain.txt"), time.Now(), time.Now()) },
				"Truncate":    func() error { return os.Truncate(in("plain.txt"), 0) },
				"Symlink":     func() error { return os.Symlink("plain.txt", in("link")) },
				"Link":        func() error { return os.Link(in("plain.txt"), in("hard")) },
				"Mknod":       func() error { return syscall.Mknod(in("fifo"), syscall.S_IFIFO|0o644, 0) },
				"Setxattr":    func() error { return syscall.Setxattr(in("plain.txt"), "user.x", []byte("y"), 0) },
				"Removexattr": func() error { return syscall.Removexattr(in("plain.txt"), "user.x") },
			}
			for name, op := range ops {
				if err := op(); !errors.Is(err, syscall.EROFS) {
					t.Errorf("%s: err = %v, want EROFS", name, err)
				}
			}
			b, err := os.ReadFile(filepath.Join(src, "plain.txt"))
			if err != nil || string(b) != string(files["plain.txt"]) {
				t.Errorf("source plain.txt is now %q, %v", b, err)
			}
			for _, p := range []string{"new.txt", "renamed.txt", "newdir", "link", "hard", "fifo"} {
				if _, err := os.Lstat(filepath.Join(src, p)); !os.IsNotExist(err) {
					t.Errorf("source gained %s (%v)", p, err)
				}
			}
			if _, err := syscall.Getxattr(in("plain.txt"), "user.x", make([]byte, 64)); !errors.Is(err, syscall.ENOTSUP) && !errors.Is(err, syscall.ENODATA) {
				t.Errorf("Getxattr: %v, want ENOTSUP or ENODATA", err)
			}
			if _, err := os.Stat(in("plain.txt")); err != nil {
				t.Errorf("plain.txt vanished from the mount: %v", err)
			}
		})
	}
}
