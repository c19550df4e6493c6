package transfer

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

// Parts read out of order are hashed in order, and a part's wait (its
// buffer still needed) ends only once it is hashed.
func TestOrder_ready(t *testing.T) {
	ctx := context.Background()
	h := sha1.New()
	o := newOrder(h, 0, func() {})
	waited := make(chan int, 3)
	for _, n := range []int{2, 1} {
		go func() {
			if err := o.wait(ctx, n); err == nil {
				waited <- n
			}
		}()
	}
	o.ready(2, []byte("cc"))
	o.ready(1, []byte("bbbb"))
	select {
	case n := <-waited:
		t.Fatalf("part %d released before part 0 was hashed", n)
	case <-time.After(50 * time.Millisecond):
	}
	if err := o.turn(ctx, 0); err != nil {
		t.Fatalf("turn of part 0 = %v", err)
	}
	o.ready(0, []byte("aaaa"))
	for range 2 {
		select {
		case <-waited:
		case <-time.After(5 * time.Second):
			t.Fatal("parts 1 and 2 still held after part 0 was hashed")
		}
	}
	want := sha1.Sum([]byte("aaaabbbbcc"))
	if got := hex.EncodeToString(h.Sum(nil)); got != hex.EncodeToString(want[:]) {
		t.Fatalf("sum = %s, want SHA-1 of the parts in order", got)
	}
}

// A failed part ends every wait and stops the attempt.
func TestOrder_fail(t *testing.T) {
	canceled := false
	o := newOrder(sha1.New(), 0, func() { canceled = true })
	errc := make(chan error, 1)
	go func() { errc <- o.turn(context.Background(), 3) }()
	o.fail()
	select {
	case err := <-errc:
		if !errors.Is(err, errOrderFailed) {
			t.Fatalf("turn after fail = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("turn still waits after fail")
	}
	if !canceled {
		t.Fatal("fail did not stop the attempt")
	}
	o.ready(0, []byte("x")) // ignored once failed
}
