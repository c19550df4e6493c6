package mount

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// checkMountpoint returns a clear error when mp cannot take a mount: it is
// missing, not a directory, a dead FUSE mount, or already a mount point.
// Mounting over a non-empty directory is allowed (it hides the contents).
func checkMountpoint(mp string) error {
	st, err := os.Stat(mp)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("mount point %s does not exist", mp)
	case errors.Is(err, syscall.ENOTCONN):
		return fmt.Errorf("mount point %s is a dead FUSE mount (transport endpoint is not connected): run 'umount -l %s' first", mp, mp)
	case err != nil:
		return fmt.Errorf("check mount point %s: %w", mp, err)
	case !st.IsDir():
		return fmt.Errorf("mount point %s is not a directory", mp)
	}
	busy, err := isMountpoint(mp)
	if err != nil {
		return fmt.Errorf("check mount point %s: %w", mp, err)
	}
	if busy {
		return fmt.Errorf("mount point %s is busy: something is already mounted there (unmount it first)", mp)
	}
	return nil
}

// isMountpoint reports whether mp is listed in /proc/self/mountinfo, or
// lies on another device than its parent.
func isMountpoint(mp string) (bool, error) {
	real, err := filepath.EvalSymlinks(mp)
	if err != nil {
		return false, fmt.Errorf("resolve path: %w", err)
	}
	var st, pst syscall.Stat_t
	if err := syscall.Stat(real, &st); err != nil {
		return false, fmt.Errorf("stat: %w", err)
	}
	if real != "/" {
		if err := syscall.Stat(filepath.Dir(real), &pst); err == nil && pst.Dev != st.Dev {
			return true, nil
		}
	}
	found := false
	err = readMountinfo(func(fields []string) {
		if len(fields) > 4 && unescapeMountinfo(fields[4]) == real {
			found = true
		}
	})
	if errors.Is(err, os.ErrNotExist) {
		return false, nil // no procfs: the device check above is all we have
	}
	return found, err
}

// readMountinfo calls fn with the space-separated fields of each line of
// /proc/self/mountinfo, in order (field 3 is the device MAJOR:MINOR, field
// 5 the escaped mount point). It reads procfs only, never a mount.
func readMountinfo(fn func(fields []string)) error {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("open mountinfo: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		fn(strings.Fields(sc.Text()))
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	return nil
}

// unescapeMountinfo decodes the \ooo octal escapes mountinfo uses for
// space, tab, newline and backslash.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// fusermount returns the fusermount helper a non-root user mounts with.
func fusermount() (string, error) {
	for _, name := range []string{"fusermount3", "fusermount"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("mounting as a non-root user needs fusermount3: install the Debian package fuse3 (apt-get install fuse3)")
}

// checkNotInside refuses a mount point inside a local source (a tree with a
// Root directory): the mount would list and read itself and hang.
func checkNotInside(tree any, mp string) error {
	r, ok := tree.(interface{ Root() string })
	if !ok {
		return nil
	}
	root, err := filepath.EvalSymlinks(r.Root())
	if err != nil {
		return nil // the root Stat reports a missing source
	}
	real, err := filepath.EvalSymlinks(mp)
	if err != nil {
		return fmt.Errorf("check mount point %s: %w", mp, err)
	}
	if rel, err := filepath.Rel(root, real); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
		return fmt.Errorf("mount point %s is inside the source %s: the mount would read itself", mp, r.Root())
	}
	return nil
}
