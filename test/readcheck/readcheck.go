// Package readcheck verifies reads through a mount while the store behind
// it fails: readers pread random ranges of open files, evicting the page
// cache first so every read reaches the mount, and a Tally counts what
// they saw — errors, short reads, wrong bytes — and when each read ran, so
// a test can show that reads were in flight across an outage.
package readcheck

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Window is when something began and ended: a read, an outage, a spell of
// faults.
type Window struct{ Start, End time.Time }

// Tally counts what readers saw. The zero value is ready to use.
type Tally struct {
	Reads, Errs, Short, Wrong atomic.Int64
	EINTR                     atomic.Int64 // reads interrupted and made again
	mu                        sync.Mutex
	spans                     []Window // of every read
	first                     []string // the first few failures, for the report
}

// Failed is the number of reads that failed, came back short or wrong.
func (s *Tally) Failed() int64 { return s.Errs.Load() + s.Short.Load() + s.Wrong.Load() }

// First returns the first few failures.
func (s *Tally) First() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.first...)
}

// Across counts the reads in flight when each of ws ended: begun before,
// answered after.
func (s *Tally) Across(ws ...Window) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.spans {
		for _, w := range ws {
			if r.Start.Before(w.End) && r.End.After(w.End) {
				n++
			}
		}
	}
	return n
}

// Within counts the reads begun during w.
func (s *Tally) Within(w Window) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.spans {
		if !r.Start.Before(w.Start) && r.Start.Before(w.End) {
			n++
		}
	}
	return n
}

func (s *Tally) fail(format string, a ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.first) < 5 {
		s.first = append(s.first, fmt.Sprintf(format, a...))
	}
}

// Evict drops f's pages from the kernel's page cache, so that the next
// read of them is a request to the mount.
func Evict(f *os.File) error {
	const fadvDontNeed = 4 // POSIX_FADV_DONTNEED
	if _, _, e := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontNeed, 0, 0); e != 0 {
		return fmt.Errorf("fadvise %s: %w", f.Name(), e)
	}
	return nil
}

// Random preads random ranges of 1 to maxRead bytes of the open files
// (name → file) until stop is closed, each after evicting the file's cached
// pages, and checks every length and byte against files (name → content).
// A read interrupted by a signal (the Go runtime's, while the mount waits
// for the store) is made again, as os.File does, and counted in EINTR.
func Random(t testing.TB, seed uint64, open map[string]*os.File, files map[string][]byte, maxRead int, stop <-chan struct{}, st *Tally) {
	r := rand.New(rand.NewPCG(seed, 5))
	names := make([]string, 0, len(open))
	for n := range open {
		names = append(names, n)
	}
	buf := make([]byte, maxRead)
	for {
		select {
		case <-stop:
			return
		default:
		}
		name := names[r.IntN(len(names))]
		data, f := files[name], open[name]
		off := r.Int64N(int64(len(data)))
		n := 1 + r.IntN(len(buf))
		want := data[off:min(off+int64(n), int64(len(data)))]
		if err := Evict(f); err != nil {
			t.Error(err)
			return
		}
		start := time.Now()
		got, err := syscall.Pread(int(f.Fd()), buf[:n], off)
		for errors.Is(err, syscall.EINTR) {
			st.EINTR.Add(1)
			got, err = syscall.Pread(int(f.Fd()), buf[:n], off)
		}
		st.mu.Lock()
		st.spans = append(st.spans, Window{Start: start, End: time.Now()})
		st.mu.Unlock()
		st.Reads.Add(1)
		switch {
		case err != nil:
			st.Errs.Add(1)
			st.fail("pread %s at %d (%d bytes): %v", name, off, n, err)
		case got < len(want):
			st.Short.Add(1)
			st.fail("pread %s at %d: %d bytes of %d", name, off, got, len(want))
		case got > len(want) || !bytes.Equal(buf[:got], want):
			st.Wrong.Add(1)
			st.fail("pread %s at %d: %d bytes differ from the object's", name, off, got)
		}
	}
}
