package mount

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// kernelReadAheadKB is the read-ahead the kernel itself does on the mount
// when read-ahead is on: with it at 1 MiB a sequential reader's page-cache
// misses become 1 MiB READ requests (the most max_pages allows) instead of
// 128 KiB ones, an eighth of the round trips through /dev/fuse. It must
// stay well below seqTolerance: the kernel's read-ahead requests run in
// parallel and arrive out of order by up to its window (at 4 MiB the
// mount took them for jumps and kept restarting its own read-ahead).
const kernelReadAheadKB = 1024

// raInitFS is the mount's RawFileSystem (go-fuse's node bridge) with the
// kernel read-ahead set in Init, before the first request other than INIT
// is answered.
//
// It has to be that early: the kernel copies the device's read-ahead into
// an open file when it is opened, and an open needs a LOOKUP answered
// first, so a file opened before the setting keeps the 128 KiB default
// (about half the sequential throughput) for as long as it stays open.
// go-fuse's NewServer mounts (mount(2), or fusermount3, which mounts before
// passing back the /dev/fuse descriptor), then reads and answers INIT, then
// calls Init before Serve reads any other request; the kernel holds every
// other request until the INIT answer, and applies that answer's
// max_readahead (which can only lower the setting) while go-fuse writes it,
// so the value written in Init is the one every open file sees.
type raInitFS struct {
	fuse.RawFileSystem
	mountpoint string // absolute, symlinks resolved, as mountinfo shows it
	kb         int
	log        *slog.Logger
}

var _ fuse.RawFileSystem = (*raInitFS)(nil)

// Init sets the kernel read-ahead, then hands the server to the bridge. A
// failure (not root, no sysfs) only leaves the kernel default, logged at
// debug level.
func (r *raInitFS) Init(s *fuse.Server) {
	if err := setKernelReadAhead(r.mountpoint, r.kb); err != nil {
		r.log.Debug("mount: kernel read-ahead left at its default", "err", err)
	}
	r.RawFileSystem.Init(s)
}

// setKernelReadAhead sets the read-ahead of the mount's backing device
// (/sys/class/bdi/MAJOR:MINOR/read_ahead_kb). FUSE's INIT can only lower
// it below the kernel's 128 KiB default, so this needs root and sysfs; the
// setting goes away with the mount. mountpoint is as for bdiReadAheadPath.
func setKernelReadAhead(mountpoint string, kb int) error {
	p, err := bdiReadAheadPath(mountpoint)
	if err != nil {
		return err
	}
	if err := os.WriteFile(p, []byte(strconv.Itoa(kb)), 0); err != nil {
		return fmt.Errorf("set kernel read-ahead: %w", err)
	}
	return nil
}

// bdiReadAheadPath returns the sysfs file of the read-ahead of the file
// system mounted at mountpoint, an absolute path with symlinks resolved
// (as /proc/self/mountinfo shows it). It reads mountinfo only, never the
// mount itself, so it works before the FUSE server answers requests (a
// stat(2) of the mount point would be one).
func bdiReadAheadPath(mountpoint string) (string, error) {
	dev, err := mountDevice(mountpoint)
	if err != nil {
		return "", err
	}
	return "/sys/class/bdi/" + dev + "/read_ahead_kb", nil
}

// mountDevice returns the device number MAJOR:MINOR (field 3) of the last
// line of /proc/self/mountinfo whose mount point (field 5) is mountpoint:
// of mounts stacked on one directory, the last is the visible one.
func mountDevice(mountpoint string) (string, error) {
	dev := ""
	err := readMountinfo(func(fields []string) {
		if len(fields) > 4 && unescapeMountinfo(fields[4]) == mountpoint {
			dev = fields[2]
		}
	})
	if err != nil {
		return "", fmt.Errorf("find mount device: %w", err)
	}
	major, minor, ok := strings.Cut(dev, ":")
	if !ok || !isDecimal(major) || !isDecimal(minor) {
		return "", fmt.Errorf("find mount device: no mount at %s in /proc/self/mountinfo (device %q)", mountpoint, dev)
	}
	return dev, nil
}

// isDecimal reports whether s is a non-empty run of ASCII digits.
func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
