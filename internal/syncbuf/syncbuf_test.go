package syncbuf

import (
	"strings"
	"sync"
	"testing"
)

// TestBuffer_Write: concurrent writers lose nothing, and String may be
// called while they write (go test -race checks the locking).
func TestBuffer_Write(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				b.Write([]byte("x"))
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if got := b.String(); got != strings.Repeat("x", 800) {
		t.Fatalf("%d bytes written, want 800", len(got))
	}
}
