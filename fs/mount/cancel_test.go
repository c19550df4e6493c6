package mount

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// retries counts the retries of op logged so far.
func retries(logs *logBuffer, op string) int {
	return strings.Count(logs.String(), `msg="mount: retrying" op=`+op+" ")
}

func TestFileNode_OpenStopsRetryingWhenInterrupted(t *testing.T) {
	o := DefaultOptions()
	o.RetryTimeout = time.Minute
	var logs logBuffer
	o.Logger = logs.logger()
	srv, _, mp := minioMount(t, map[string][]byte{"a.bin": randomBytes(1<<20, 41)}, o)
	if _, err := os.ReadDir(mp); err != nil { // a.bin is looked up from this listing
		t.Fatal(err)
	}

	srv.Kill()
	cat := exec.Command("cat", filepath.Join(mp, "a.bin"))
	if err := cat.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second) // a hang guard, not a timing assertion
	for retries(&logs, "open") == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if retries(&logs, "open") == 0 {
		t.Fatal("the open of a file of a server that is down was not retried")
	}
	// A killed process waits for the answer to a request already sent:
	// the mount must answer the interrupt at once, not after the retries.
	_ = cat.Process.Kill()
	exited := make(chan struct{})
	go func() { _ = cat.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(15 * time.Second): // a quarter of the retry timeout
		t.Fatal("a killed reader still waits for its open: the mount kept retrying")
	}
	time.Sleep(500 * time.Millisecond) // a retry already past its check may log once more
	before := retries(&logs, "open")
	time.Sleep(3 * time.Second) // more than one backoff (at most 2s)
	if after := retries(&logs, "open"); after != before {
		t.Errorf("the open was retried %d more times after its reader was killed", after-before)
	}
}

func TestServer_UnmountDuringOutage(t *testing.T) {
	o := DefaultOptions()
	o.RetryTimeout = time.Minute
	srv, ms, mp := minioMount(t, map[string][]byte{"a.bin": randomBytes(4<<20, 42)}, o)
	s, err := os.Open(filepath.Join(mp, "a.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv.Kill()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = syscall.Pread(int(s.Fd()), make([]byte, 1<<20), 1<<20)
	}()
	time.Sleep(500 * time.Millisecond)

	start := time.Now()
	if err := ms.Unmount(); err != nil { // as Ctrl-C does; the file is still open
		t.Fatalf("Unmount: %v", err)
	}
	stopped := make(chan struct{})
	go func() { ms.Wait(); close(stopped) }()
	for _, ch := range []<-chan struct{}{stopped, done} {
		select {
		case <-ch:
		case <-time.After(30 * time.Second): // well under the minute of retries
			t.Fatal("a read retrying during an outage outlived the unmount")
		}
	}
	t.Logf("the server stopped and the read ended %s after Unmount", time.Since(start))
}
