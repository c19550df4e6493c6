// Package reqcount is a reverse proxy on loopback that counts the HTTP
// requests it forwards to one server, by S3 operation (see Op), and can
// cap the bytes it forwards at a rate shared by all connections (SetRate).
// Tests and the benchmark put it in front of MinIO to count the requests a
// copy costs per object. It forwards requests unchanged (the Host header too,
// so that SigV4 signatures made for the proxy's address still verify).
package reqcount

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// Proxy is a running counting reverse proxy.
type Proxy struct {
	ln  net.Listener
	srv *http.Server

	mu     sync.Mutex
	counts map[string]int64

	up, down limiter // SetRate
}

// Start listens on a free loopback port and forwards every request to
// target (an http:// URL), counting it. The caller must Close it.
func Start(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("start counting proxy: bad target %q", target)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start counting proxy: %w", err)
	}
	p := &Proxy{ln: ln, counts: map[string]int64{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{
		Proxy:               nil,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
	}
	rp.ErrorLog = nil
	p.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.count(Op(r))
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = pacedBody{r.Body, &p.up}
			}
			rp.ServeHTTP(pacedWriter{w, &p.down}, r)
		}),
		ReadHeaderTimeout: time.Minute,
	}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// URL is the proxy's address, "http://127.0.0.1:PORT".
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *Proxy) count(op string) {
	p.mu.Lock()
	p.counts[op]++
	p.mu.Unlock()
}

// Counts returns the requests forwarded since the start or the last Reset,
// by operation.
func (p *Proxy) Counts() map[string]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.counts)
}

// Total is the sum of Counts.
func (p *Proxy) Total() int64 {
	var n int64
	for _, v := range p.Counts() {
		n += v
	}
	return n
}

// Reset sets every count to zero.
func (p *Proxy) Reset() {
	p.mu.Lock()
	p.counts = map[string]int64{}
	p.mu.Unlock()
}

// Close stops the proxy.
func (p *Proxy) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stop counting proxy: %w", err)
	}
	return nil
}
