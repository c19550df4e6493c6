package urllist

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/ferry-project/ferry/internal/httporigin"
)

// probePage is the number of unsized rows read from the index at a time and
// the number of results written per transaction.
const probePage = 500

// versionUnreachable is the Version of a URL that could not be sized.
const versionUnreachable = "unreachable"

// sizeAll sizes every file the list gave no size for, with at most
// concurrency requests in flight. A URL that cannot be sized does not stop
// it: the row gets size 0, Version "unreachable" and the reason.
func (t *Tree) sizeAll(ctx context.Context, concurrency int) (probed, unreachable int, err error) {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan row)
	results := make(chan sized)
	var readErr error
	go func() {
		defer close(jobs)
		after := ""
		for {
			page, err := t.ix.unsized(pctx, after, probePage)
			if err != nil {
				readErr = err
				cancel()
				return
			}
			for _, r := range page {
				select {
				case jobs <- r:
				case <-pctx.Done():
					return
				}
			}
			if len(page) < probePage {
				return
			}
			after = page[len(page)-1].path
		}
	}()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range jobs {
				results <- t.probe(pctx, r)
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	var writeErr error
	batch := make([]sized, 0, probePage)
	flush := func() {
		if writeErr == nil && len(batch) > 0 {
			if writeErr = t.ix.setSized(pctx, batch); writeErr != nil {
				cancel()
			}
		}
		batch = batch[:0]
	}
	for s := range results {
		probed++
		if s.err != "" {
			unreachable++
			t.log.Warn("urllist: URL cannot be sized; it is listed as unreachable", "path", s.path, "reason", s.err)
		}
		if probed%10000 == 0 {
			t.log.Info("urllist: sizing URLs", "done", probed)
		}
		if batch = append(batch, s); len(batch) == probePage {
			flush()
		}
	}
	flush()
	switch {
	case ctx.Err() != nil:
		return 0, 0, fmt.Errorf("size urls: %w", ctx.Err())
	case readErr != nil:
		return 0, 0, fmt.Errorf("size urls: %w", readErr)
	case writeErr != nil:
		return 0, 0, fmt.Errorf("size urls: %w", writeErr)
	}
	return probed, unreachable, nil
}

// urlInfo is what a HEAD (or a one-byte GET) tells about a URL.
type urlInfo struct {
	size   int64
	mtime  time.Time
	etag   string
	ranges int
}

// probe sizes one URL: HEAD, or GET with "Range: bytes=0-0" when HEAD is
// refused (405, 501, 403 on a URL signed for GET only, any other 4xx but
// 404, 410 and 429) or gives no length.
func (t *Tree) probe(ctx context.Context, r row) sized {
	info, retry, err := t.head(ctx, r.url)
	if retry {
		info, err = t.firstByte(ctx, r.url)
	}
	if err != nil {
		return sized{path: r.path, version: versionUnreachable, err: err.Error(), errkind: errKind(err)}
	}
	s := sized{path: r.path, size: info.size, mtime: info.mtime, ranges: info.ranges, version: info.etag, etag: info.etag}
	switch {
	case s.version != "":
	case !s.mtime.IsZero():
		s.version = fmt.Sprintf("%d-%d", s.mtime.Unix(), s.size)
	default:
		s.version = fmt.Sprintf("size-%d", s.size)
	}
	return s
}

// reprobe sizes path's URL again once a read found that it changed, so
// that Stat, Walk and the next Open describe its current version.
func (t *Tree) reprobe(ctx context.Context, path, rawURL string) {
	s := t.probe(ctx, row{path: path, url: rawURL})
	if err := t.ix.setSized(ctx, []sized{s}); err != nil {
		t.log.Warn("urllist: cannot record the new version of a changed URL", "path", path, "error", err)
		return
	}
	t.log.Info("urllist: URL changed while read", "path", path, "version", s.version, "size", s.size)
}

// head sends HEAD; retry reports that the answer says nothing and a GET
// should be tried instead.
func (t *Tree) head(ctx context.Context, rawURL string) (info urlInfo, retry bool, err error) {
	resp, err := httporigin.Get(ctx, t.client, http.MethodHead, rawURL, "", nil, nil)
	if err != nil {
		return urlInfo{}, false, err
	}
	resp.Body.Close()
	switch code := resp.StatusCode; {
	case code == http.StatusNotFound || code == http.StatusGone || code == http.StatusTooManyRequests ||
		(code >= 500 && code != http.StatusNotImplemented):
		return urlInfo{}, false, statusError(http.MethodHead, rawURL, resp)
	case code/100 != 2 || resp.ContentLength < 0:
		return urlInfo{}, true, nil
	}
	info = headerInfo(resp)
	info.size = resp.ContentLength
	info.ranges = rangesNo
	if httporigin.AcceptsRanges(resp.Header) {
		info.ranges = rangesYes
	}
	return info, false, nil
}

// firstByte sizes a URL with GET "Range: bytes=0-0": a 206 (or a 416 for an
// empty file) gives the size in Content-Range; a 200 means the server
// ignores ranges and its Content-Length is the size.
func (t *Tree) firstByte(ctx context.Context, rawURL string) (urlInfo, error) {
	resp, err := httporigin.Get(ctx, t.client, http.MethodGet, rawURL, "bytes=0-0", nil, nil)
	if err != nil {
		return urlInfo{}, err
	}
	defer resp.Body.Close()
	info := headerInfo(resp)
	switch resp.StatusCode {
	case http.StatusPartialContent, http.StatusRequestedRangeNotSatisfiable:
		_, _, total, err := httporigin.ParseContentRange(resp.Header.Get("Content-Range"))
		if err != nil {
			return urlInfo{}, fmt.Errorf("GET %s: %w: %w", httporigin.Redact(rawURL), err, ErrUnreachable)
		}
		if total < 0 {
			return urlInfo{}, fmt.Errorf("GET %s: server gives no size: %w", httporigin.Redact(rawURL), ErrUnreachable)
		}
		info.size, info.ranges = total, rangesYes
	case http.StatusOK:
		if resp.ContentLength < 0 {
			return urlInfo{}, fmt.Errorf("GET %s: server gives no size: %w", httporigin.Redact(rawURL), ErrUnreachable)
		}
		info.size, info.ranges = resp.ContentLength, rangesNo
	default:
		return urlInfo{}, statusError(http.MethodGet, rawURL, resp)
	}
	return info, nil
}

// headerInfo reads Last-Modified and ETag.
func headerInfo(resp *http.Response) urlInfo {
	v := httporigin.VersionOf(resp.Header)
	return urlInfo{etag: v.ETag, mtime: v.Modified}
}
