package mount

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-project/ferry/fs"
)

// errFlaky and errHard are a test tree's transient and permanent errors.
var (
	errFlaky = errors.New("connection reset by peer")
	errHard  = errors.New("access denied")
)

// testRetrier retries errFlaky (and anything but errHard) for timeout.
func testRetrier(timeout time.Duration) retrier {
	return retrier{timeout: timeout, permanent: func(err error) bool { return errors.Is(err, errHard) },
		log: slog.New(slog.DiscardHandler)}
}

func TestRetrier_Do(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		r         retrier
		errs      []error // what each call returns, the last one repeated
		wantCalls int
		wantErr   error
	}{
		{"transient, then success", testRetrier(time.Minute), []error{errFlaky, errFlaky, nil}, 3, nil},
		{"permanent", testRetrier(time.Minute), []error{errHard}, 1, errHard},
		{"changed object", testRetrier(time.Minute), []error{fmt.Errorf("read: %w", fs.ErrChanged)}, 1, fs.ErrChanged},
		{"absent", testRetrier(time.Minute), []error{fs.ErrNotExist}, 1, fs.ErrNotExist},
		{"tree without classification", retrier{timeout: time.Minute}, []error{errFlaky}, 1, errFlaky},
		{"retries off", newRetrier(&memTree{}, 0, nil), []error{errFlaky}, 1, errFlaky},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := tc.r.do(ctx, tc.r.deadline(), "read", "f", func() error {
				calls++
				return tc.errs[min(calls, len(tc.errs))-1]
			})
			if calls != tc.wantCalls || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Errorf("do = %v after %d calls, want %v after %d", err, calls, tc.wantErr, tc.wantCalls)
			}
		})
	}
}

func TestRetrier_DoGivesUpAtDeadline(t *testing.T) {
	r := testRetrier(300 * time.Millisecond)
	start, calls := time.Now(), 0
	err := r.do(context.Background(), r.deadline(), "read", "f", func() error { calls++; return errFlaky })
	if !errors.Is(err, errFlaky) || calls < 2 {
		t.Fatalf("do = %v after %d calls, want errFlaky after several", err, calls)
	}
	if took := time.Since(start); took < r.timeout {
		t.Errorf("gave up after %s, before the timeout %s", took, r.timeout)
	}
}

func TestRetrier_DoStopsOnCancel(t *testing.T) {
	r := testRetrier(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err := r.do(ctx, r.deadline(), "read", "f", func() error { return errFlaky })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("do = %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > 10*time.Second { // a hang guard, not a timing assertion
		t.Errorf("cancelled retries returned after %s", took)
	}
}

// flakyFile serves data but cuts every other ReadAt short: half the bytes
// asked for, then errFlaky, as a connection dropped mid-body does.
type flakyFile struct {
	data  []byte
	mu    sync.Mutex
	calls int
}

func (f *flakyFile) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	f.calls++
	cut := f.calls%2 == 1
	f.mu.Unlock()
	n := copy(p, f.data[min(off, int64(len(f.data))):])
	if cut && len(p) > 1 {
		return min(n, len(p)/2), errFlaky
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *flakyFile) Close() error { return nil }

func TestHandle_ReadFillsWholeThroughCuts(t *testing.T) {
	data := randomBytes(6<<20+1, 5)
	for _, window := range []int64{0, 1 << 20, DefaultReadAhead} {
		f := &flakyFile{data: data}
		h := newHandle(context.Background(), f, func() {}, "f", int64(len(data)), testReadAhead(window, nil),
			false, testRetrier(time.Minute), slog.New(slog.DiscardHandler))
		var got bytes.Buffer
		buf := make([]byte, 1<<20)
		for off := int64(0); ; {
			n, err := h.read(context.Background(), buf, off)
			if err != nil {
				t.Fatalf("window %d: read at %d: %v", window, off, err)
			}
			if n < len(buf) && off+int64(n) < int64(len(data)) {
				t.Fatalf("window %d: short read at %d: %d bytes", window, off, n)
			}
			if n == 0 {
				break
			}
			got.Write(buf[:n])
			off += int64(n)
		}
		if !bytes.Equal(got.Bytes(), data) {
			t.Errorf("window %d: bytes differ after cut reads", window)
		}
		if errno := h.Release(context.Background()); errno != 0 {
			t.Fatalf("Release: %v", errno)
		}
	}
}

func TestHandle_ReadOfChangedObjectFails(t *testing.T) {
	data := randomBytes(1<<20, 6)
	// The object is now shorter than it was listed as: it changed.
	h := newHandle(context.Background(), nopCloser{bytes.NewReader(data[:1000])}, func() {}, "f", int64(len(data)),
		testReadAhead(0, nil), false, testRetrier(time.Minute), slog.New(slog.DiscardHandler))
	start := time.Now()
	_, err := h.read(context.Background(), make([]byte, 4096), 0)
	if !errors.Is(err, fs.ErrChanged) {
		t.Fatalf("read of a shrunk object = %v, want fs.ErrChanged", err)
	}
	if errno := toErrno(slog.New(slog.DiscardHandler), "read", "f", err); errno != syscall.EIO {
		t.Errorf("errno %v, want EIO", errno)
	}
	if took := time.Since(start); took > 5*time.Second { // a hang guard: no retries
		t.Errorf("failed after %s: a changed object was retried", took)
	}
}
