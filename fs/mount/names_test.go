package mount

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-project/ferry/fs"
)

func TestDirNode_OddNames(t *testing.T) {
	long := strings.Repeat("x", 256)
	now := time.Now()
	file := func(p string) fs.Entry { return fs.Entry{Path: p, Size: 2, ModTime: now, Mode: 0o644} }
	tree := &memTree{
		dirs: map[string][]fs.Entry{
			"": {
				file("%%"), // a folder marker a driver did not hide: shown as given
				file(".."),
				file("b/c"), // a name with a slash
				file("dup"),
				file("dup"),
				file("nul\x00byte"),
				file(long),
				file("ok.txt"),
				file("elsewhere/x"),
				{Path: "sub", Mode: os.ModeDir | 0o755},
				file("a-first"), // out of order: the mount sorts
			},
			"sub": {file("sub/inner.txt"), file("wrong-parent.txt")},
		},
		files: map[string][]byte{"%%": []byte("m\n"), "dup": []byte("d\n"), "ok.txt": []byte("ok"), "a-first": []byte("a\n"), "sub/inner.txt": []byte("in")},
	}
	var logs logBuffer
	o := DefaultOptions()
	o.Logger = logs.logger()
	_, mp := mountT(t, tree, o)

	names := func(dir string) []string {
		des, err := os.ReadDir(filepath.Join(mp, dir))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range des {
			out = append(out, d.Name())
		}
		return out
	}
	if got, want := names(""), []string{"%%", "a-first", "dup", "ok.txt", "sub"}; !reflect.DeepEqual(got, want) {
		t.Errorf("root shows %q, want %q", got, want)
	}
	if got, want := names("sub"), []string{"inner.txt"}; !reflect.DeepEqual(got, want) {
		t.Errorf("sub shows %q, want %q", got, want)
	}
	if b, err := os.ReadFile(filepath.Join(mp, "ok.txt")); err != nil || string(b) != "ok" {
		t.Errorf("ok.txt reads %q, %v", b, err)
	}
	if !strings.Contains(logs.String(), `path=dup reason="duplicate name`) {
		t.Errorf("no warning for the duplicate name; log:\n%s", logs.String())
	}
	for _, p := range []string{"b/c", "nul\x00byte", long, "elsewhere/x", "wrong-parent.txt"} {
		if !strings.Contains(logs.String(), fmt.Sprintf("%q", p)[1:len(fmt.Sprintf("%q", p))-1]) {
			t.Errorf("no warning names the skipped entry %q; log:\n%s", p, logs.String())
		}
	}
	if n := strings.Count(logs.String(), "b/c"); n != 1 {
		t.Errorf("skipped entry b/c warned %d times, want once", n)
	}
}

func TestDirNode_Errors(t *testing.T) {
	tree := &memTree{
		dirs: map[string][]fs.Entry{"": {
			{Path: "broken", Mode: os.ModeDir | 0o755},
			{Path: "denied", Mode: os.ModeDir | 0o755},
			{Path: "gone", Mode: os.ModeDir | 0o755},
			{Path: "unreadable.txt", Size: 3, Mode: 0o644},
		}},
		errs: map[string]error{"broken": errors.New("backend exploded"), "denied": fs.ErrPermission},
	}
	var logs logBuffer
	o := DefaultOptions()
	o.Logger = logs.logger()
	_, mp := mountT(t, tree, o)

	for dir, want := range map[string]syscall.Errno{"broken": syscall.EIO, "denied": syscall.EACCES, "gone": syscall.ENOENT} {
		if _, err := os.ReadDir(filepath.Join(mp, dir)); !errors.Is(err, want) {
			t.Errorf("ReadDir %s: %v, want %v", dir, err, want)
		}
	}
	if _, err := os.ReadFile(filepath.Join(mp, "unreadable.txt")); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("open of a file the tree cannot open: %v, want ENOENT", err)
	}
	if !strings.Contains(logs.String(), "backend exploded") {
		t.Errorf("the EIO cause was not logged:\n%s", logs.String())
	}
}

func TestToErrno(t *testing.T) {
	var logs logBuffer
	log := logs.logger()
	for err, want := range map[error]syscall.Errno{
		fmt.Errorf("x: %w", fs.ErrNotExist):   syscall.ENOENT,
		fmt.Errorf("x: %w", fs.ErrPermission): syscall.EACCES,
		fmt.Errorf("x: %w", fs.ErrNotDir):     syscall.ENOTDIR,
		fmt.Errorf("x: %w", fs.ErrIsDir):      syscall.EISDIR,
		errors.New("anything else"):           syscall.EIO,
	} {
		if got := toErrno(log, "op", "p", err); got != want {
			t.Errorf("toErrno(%v) = %v, want %v", err, got, want)
		}
	}
	if toErrno(log, "op", "p", nil) != 0 {
		t.Error("toErrno(nil) != 0")
	}
	if n := strings.Count(logs.String(), "request failed"); n != 2 {
		t.Errorf("%d errors logged, want 2 (EACCES and EIO; ENOENT and shape errors are normal answers)", n)
	}
}
