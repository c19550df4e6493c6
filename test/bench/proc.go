package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/PID/stat and /proc/stat:
// USER_HZ, which Linux fixes at 100 for every architecture it reports to
// user space.
const userHZ = 100

// readHWM returns VmHWM (bytes) from a /proc/PID/status file, or 0.
func readHWM(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb << 10
		}
	}
	return 0
}

// procCPU returns the CPU time (utime + stime, all threads, live and
// exited) that process pid has used so far.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu of pid %d: %w", pid, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// fields are counted from the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc/%d/stat: no ')'", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	return time.Duration(ut+st) * time.Second / userHZ, nil
}

// findPID returns the pid of a process other than this one whose command
// line holds every one of args (after the program name), or an error when
// there is none.
func findPID(args ...string) (int, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return 0, fmt.Errorf("list /proc: %w", err)
	}
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		have := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")[1:]
		all := true
		for _, a := range args {
			all = all && slices.Contains(have, a)
		}
		if all {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("find process with arguments %q: none", args)
}

// cpuTotals returns the machine's busy and total CPU ticks from /proc/stat
// (idle and iowait count as not busy).
func cpuTotals() (busy, total int64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, fmt.Errorf("read /proc/stat: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("parse /proc/stat: %q", line)
	}
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("parse /proc/stat: %q", line)
		}
		// guest and guest_nice (fields 9, 10) are already in user and nice.
		if i >= 8 {
			break
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total, nil
}

// cpuBusy returns the fraction (0–1) of the machine's CPU time that was
// busy over the next window.
func cpuBusy(ctx context.Context, window time.Duration) (float64, error) {
	b0, t0, err := cpuTotals()
	if err != nil {
		return 0, err
	}
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(window):
	}
	b1, t1, err := cpuTotals()
	if err != nil {
		return 0, err
	}
	if t1 == t0 {
		return 0, nil
	}
	return float64(b1-b0) / float64(t1-t0), nil
}

// waitIdle polls the machine's CPU over 200 ms windows until it is busy
// less than threshold (0–1) or limit passes. It returns the last busy
// fraction seen and whether the machine became idle.
func waitIdle(ctx context.Context, threshold float64, limit time.Duration) (float64, bool, error) {
	deadline := time.Now().Add(limit)
	for {
		busy, err := cpuBusy(ctx, 200*time.Millisecond)
		if err != nil {
			return 0, false, fmt.Errorf("wait for idle machine: %w", err)
		}
		if busy < threshold {
			return busy, true, nil
		}
		if time.Now().After(deadline) {
			return busy, false, nil
		}
	}
}
