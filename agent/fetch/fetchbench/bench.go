package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ferry-project/ferry/agent/fetch"
)

// origin serves small objects from memory and one large patterned object.
type origin struct {
	*httptest.Server
	mu    sync.Mutex
	blobs map[string][]byte
	large int64
	block []byte
}

func startOrigin() *origin {
	o := &origin{blobs: map[string][]byte{}, block: randBytes(4<<20, 42)}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/large" {
			http.ServeContent(w, r, "", time.Time{}, &patterned{size: o.large, block: o.block})
			return
		}
		o.mu.Lock()
		b, ok := o.blobs[r.URL.Path]
		o.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader(string(b)))
	}))
	return o
}

// patterned is size bytes repeating block, readable at any offset.
type patterned struct {
	size, off int64
	block     []byte
}

func (p *patterned) Read(b []byte) (int, error) {
	if p.off >= p.size {
		return 0, io.EOF
	}
	i := p.off % int64(len(p.block))
	n := copy(b, p.block[i:min(int64(len(p.block)), i+p.size-p.off)])
	p.off += int64(n)
	return n, nil
}

func (p *patterned) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += p.off
	case io.SeekEnd:
		off += p.size
	}
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	p.off = off
	return off, nil
}

func randBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// receiver counts callbacks and keeps what they said.
type receiver struct {
	mu    sync.Mutex
	ok    map[string]fetch.SuccessCallback
	fails []string
	last  time.Time
}

func newReceiver() *receiver { return &receiver{ok: map[string]fetch.SuccessCallback{}} }

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var s struct {
		fetch.SuccessCallback
		Message string
	}
	_ = json.NewDecoder(r.Body).Decode(&s)
	rc.mu.Lock()
	if s.Code == 0 {
		rc.ok[s.TaskID] = s.SuccessCallback
	} else {
		rc.fails = append(rc.fails, s.Message)
	}
	rc.last = time.Now()
	rc.mu.Unlock()
}

// wait waits until n callbacks arrived (or ctx ends) and returns when the
// last one did.
func (rc *receiver) wait(ctx context.Context, n int) (time.Time, error) {
	for {
		rc.mu.Lock()
		got, fails, last := len(rc.ok), len(rc.fails), rc.last
		rc.mu.Unlock()
		if fails > 0 {
			return last, fmt.Errorf("%d failure callbacks (first: %s)", fails, rc.fails[0])
		}
		if got >= n {
			return last, nil
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("%d of %d callbacks: %w", got, n, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// post sends reqs from clients goroutines and returns every TaskId and
// latency.
func (e *env) post(ctx context.Context, reqs []fetch.Request, clients int) ([]string, []time.Duration, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = clients
	sub := &fetch.Submitter{Master: e.master, Public: fetchPub, Private: fetchPriv, HTTP: &http.Client{Transport: tr}}
	ids := make([]string, len(reqs))
	lat := make([]time.Duration, len(reqs))
	errs := make(chan error, clients)
	next := make(chan int)
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				resp, status, err := sub.Post(ctx, reqs[i])
				lat[i] = time.Since(t0)
				if err == nil && (status != 200 || resp.TaskID == "") {
					err = fmt.Errorf("POST answered %d %+v", status, resp)
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					continue
				}
				ids[i] = resp.TaskID
			}
		}()
	}
	for i := range reqs {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return nil, nil, err
	default:
	}
	return ids, lat, nil
}

// acceptBench posts n distinct requests with no agent running.
func (e *env) acceptBench(ctx context.Context, n, clients int) (string, error) {
	job, err := e.createJob(ctx)
	if err != nil {
		return "", err
	}
	reqs := make([]fetch.Request, n)
	for i := range reqs {
		reqs[i] = fetch.Request{URL: fmt.Sprintf("%s/accept/%06d", e.origin.URL, i), Bucket: bucket,
			Key: fmt.Sprintf("accept/%06d", i), JobID: job}
	}
	t0 := time.Now()
	_, lat, err := e.post(ctx, reqs, clients)
	if err != nil {
		return "", err
	}
	took := time.Since(t0)
	if err := e.admin.DeleteJob(ctx, job); err != nil {
		return "", err
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return fmt.Sprintf("accept: %d signed POSTs from %d clients in %.1fs: %.0f POSTs/s, p50 %.2f ms, p99 %.2f ms",
		n, clients, took.Seconds(), float64(n)/took.Seconds(), ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100])), nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// endToEnd fetches n objects of size bytes: first POST to last callback.
func (e *env) endToEnd(ctx context.Context, n, size, clients int) (string, error) {
	job, err := e.createJob(ctx)
	if err != nil {
		return "", err
	}
	reqs := make([]fetch.Request, n)
	want := map[string]string{}
	e.origin.mu.Lock()
	for i := range reqs {
		key := fmt.Sprintf("small/%06d", i)
		b := randBytes(size, uint64(i+1))
		e.origin.blobs["/"+key] = b
		sum := sha1.Sum(b)
		want[key] = hex.EncodeToString(sum[:])
		reqs[i] = fetch.Request{URL: e.origin.URL + "/" + key, Bucket: bucket, Key: key, JobID: job,
			SuccessCallbackURL: e.cbURL + "/ok", FailureCallbackURL: e.cbURL + "/fail"}
	}
	e.origin.mu.Unlock()
	e.receiver.reset()
	t0 := time.Now()
	if _, _, err := e.post(ctx, reqs, clients); err != nil {
		return "", err
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	last, err := e.receiver.wait(wctx, n)
	if err != nil {
		return "", err
	}
	took := last.Sub(t0)
	for _, s := range e.receiver.snapshot() {
		if want[s.Key] != s.SHA1 {
			return "", fmt.Errorf("%s: callback SHA1 %s, want %s", s.Key, s.SHA1, want[s.Key])
		}
	}
	return fmt.Sprintf("end-to-end %d × %s: %.1fs, %.0f objects/s, %.1f MB/s (first POST to last callback)",
		n, human(int64(size)), took.Seconds(), float64(n)/took.Seconds(), float64(n*size)/1e6/took.Seconds()), nil
}

// largeOne fetches one patterned URL of size bytes.
func (e *env) largeOne(ctx context.Context, size int64) (string, error) {
	job, err := e.createJob(ctx)
	if err != nil {
		return "", err
	}
	e.origin.mu.Lock()
	e.origin.large = size
	e.origin.mu.Unlock()
	h := sha1.New()
	if _, err := io.Copy(h, &patterned{size: size, block: e.origin.block}); err != nil {
		return "", err
	}
	want := hex.EncodeToString(h.Sum(nil))
	e.receiver.reset()
	t0 := time.Now()
	if _, _, err := e.post(ctx, []fetch.Request{{URL: e.origin.URL + "/large", Bucket: bucket, Key: "large.bin", JobID: job,
		SuccessCallbackURL: e.cbURL + "/ok", FailureCallbackURL: e.cbURL + "/fail"}}, 1); err != nil {
		return "", err
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	last, err := e.receiver.wait(wctx, 1)
	if err != nil {
		return "", err
	}
	for _, s := range e.receiver.snapshot() {
		if s.SHA1 != want || s.Size != size {
			return "", fmt.Errorf("callback %+v, want SHA1 %s size %d", s, want, size)
		}
	}
	took := last.Sub(t0)
	return fmt.Sprintf("end-to-end 1 × %s: %.1fs, %.1f MB/s (ranged parallel GETs, multipart)",
		human(size), took.Seconds(), float64(size)/1e6/took.Seconds()), nil
}

func (rc *receiver) reset() {
	rc.mu.Lock()
	rc.ok, rc.fails = map[string]fetch.SuccessCallback{}, nil
	rc.mu.Unlock()
}

func (rc *receiver) snapshot() []fetch.SuccessCallback {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make([]fetch.SuccessCallback, 0, len(rc.ok))
	for _, s := range rc.ok {
		out = append(out, s)
	}
	return out
}

func human(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
