package mount

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// kernelReadAheadKB is the read-ahead the kernel itself does on the mount
// when read-ahead is on: with it at 1 MiB a sequential reader's page-cache
// misses become 1 MiB READ requests (the most max_pages allows) instead of
// 128 KiB ones, an eighth of the round trips through /dev/fuse. It must
// stay well below seqTolerance: the kernel's read-ahead requests run in
// parallel and arrive out of order by up to its window (at 4 MiB the
// mount took them for jumps and kept restarting its own read-ahead).
const kernelReadAheadKB = 1024

// setKernelReadAhead sets the read-ahead of the mount's backing device
// (/sys/class/bdi/MAJOR:MINOR/read_ahead_kb). FUSE's INIT can only lower
// it below the kernel's 128 KiB default, so this needs root and sysfs; the
// setting goes away with the mount.
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
// system mounted at mountpoint.
func bdiReadAheadPath(mountpoint string) (string, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(mountpoint, &st); err != nil {
		return "", fmt.Errorf("stat mount point: %w", err)
	}
	dev := uint64(st.Dev)
	major := (dev>>8)&0xfff | (dev>>32)&^0xfff
	minor := dev&0xff | (dev>>12)&^0xff
	return fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", major, minor), nil
}
