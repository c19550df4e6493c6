package reqcount

import (
	"io"
	"net/http"
	"sync"
	"time"
)

// minSleep is the shortest wait the limiter sleeps: a sleep of a few
// microseconds per 32 KiB chunk lasts a millisecond or more on a busy
// machine (it held one stream capped at 100 MiB/s to 22 MB/s), so smaller
// debts are carried to the next chunk. It bounds how far ahead of the
// rate a burst may run.
const minSleep = 5 * time.Millisecond

// limiter paces bytes to a rate shared by every connection: each chunk
// waits until the chunks before it, at the rate, would have passed.
type limiter struct {
	mu   sync.Mutex
	rate int64 // bytes/s; 0 = unlimited
	next time.Time
}

func (l *limiter) set(rate int64) {
	l.mu.Lock()
	l.rate, l.next = max(rate, 0), time.Time{}
	l.mu.Unlock()
}

// wait blocks until n more bytes fit the rate.
func (l *limiter) wait(n int) {
	l.mu.Lock()
	if l.rate == 0 || n <= 0 {
		l.mu.Unlock()
		return
	}
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	l.next = l.next.Add(time.Duration(float64(n) / float64(l.rate) * float64(time.Second)))
	d := l.next.Sub(now)
	l.mu.Unlock()
	if d >= minSleep {
		time.Sleep(d)
	}
}

// SetRate caps the bytes of request bodies (upstream) and, separately,
// of response bodies (downstream) that the proxy forwards, summed over
// every connection, at rate bytes/s each way; 0 removes the cap.
func (p *Proxy) SetRate(rate int64) {
	p.up.set(rate)
	p.down.set(rate)
}

// pacedBody is a request body read at the upstream rate.
type pacedBody struct {
	io.ReadCloser
	l *limiter
}

func (b pacedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.l.wait(n)
	return n, err
}

// pacedWriter writes a response body at the downstream rate.
type pacedWriter struct {
	http.ResponseWriter
	l *limiter
}

func (w pacedWriter) Write(p []byte) (int, error) {
	w.l.wait(len(p))
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the real writer (Flush).
func (w pacedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
