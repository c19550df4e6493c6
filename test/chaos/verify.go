package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
)

// tally is what a check found at the destination.
type tally struct {
	checked int
	// lost are source files missing at the destination; corrupted are
	// objects equal to no version of their file; stale equal a version but
	// not the final one; extra are keys no source file has.
	lost, corrupted, stale, extra []string
}

// checkWorkers is how many objects a check downloads at once.
const checkWorkers = 8

// check downloads every object under prefix and compares it with the
// versions of src.
func check(ctx context.Context, d dest, prefix string, src *source) (tally, error) {
	keys, err := d.list(ctx, prefix)
	if err != nil {
		return tally{}, fmt.Errorf("check destination: %w", err)
	}
	sums, err := hashObjects(ctx, d, keys)
	if err != nil {
		return tally{}, fmt.Errorf("check destination: %w", err)
	}
	var t tally
	for _, k := range keys {
		rel := strings.TrimPrefix(k, prefix)
		any, final := src.match(rel, sums[k])
		switch {
		case !any && !isSource(src, rel):
			t.extra = append(t.extra, rel)
		case !any:
			t.corrupted = append(t.corrupted, rel)
		case !final:
			t.stale = append(t.stale, rel)
		}
	}
	for _, rel := range src.keys() {
		t.checked++
		if _, ok := sums[prefix+rel]; !ok {
			t.lost = append(t.lost, rel)
		}
	}
	return t, nil
}

// isSource reports whether rel is a file of src.
func isSource(src *source, rel string) bool {
	src.mu.Lock()
	defer src.mu.Unlock()
	_, ok := src.versions[rel]
	return ok
}

// hashObjects downloads keys with checkWorkers workers and returns their
// SHA-256 sums.
func hashObjects(ctx context.Context, d dest, keys []string) (map[string][32]byte, error) {
	var (
		mu       sync.Mutex
		sums     = make(map[string][32]byte, len(keys))
		firstErr error
		wg       sync.WaitGroup
	)
	work := make(chan string)
	for range checkWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				h := sha256.New()
				err := d.get(ctx, k, h)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				sums[k] = [32]byte(h.Sum(nil))
				mu.Unlock()
			}
		}()
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	return sums, firstErr
}
