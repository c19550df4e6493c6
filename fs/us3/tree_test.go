package us3_test

import (
	"context"
	"sort"
	"testing"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/fstest"
)

// TestStore_Tree runs the Tree conformance suite on a prefix whose fixture
// was uploaded through the real SDK, next to keys the prefix must hide.
func TestStore_Tree(t *testing.T) {
	t.Parallel()
	e := startEmu(t, 0)
	files := fstest.Fixture()
	for k, v := range files {
		e.sdkPut(t, "tree/"+k, v)
	}
	for _, k := range []string{"tree/", "tree-outside.txt", "tre", "treez/x", "a/b.txt"} {
		e.sdkPut(t, k, []byte("outside the tree "+k))
	}
	fstest.Run(t, files, e.store(t, "tree"))
}

// TestStore_WalkPages checks marker paging and ranges over more keys than
// one listing page holds.
func TestStore_WalkPages(t *testing.T) {
	t.Parallel()
	e := startEmu(t, 0)
	s := e.store(t, "")
	var keys []string
	for i := 0; i < 1300; i++ {
		keys = append(keys, fmtKey(i))
	}
	ctx := context.Background()
	sem := make(chan struct{}, 16)
	errs := make(chan error, len(keys))
	for _, k := range keys {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			_, err := s.Put(ctx, k, stringsReader(k), int64(len(k)))
			errs <- err
		}()
	}
	for range keys {
		if err := <-errs; err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	sort.Strings(keys)
	for _, r := range []fs.Range{fs.All, {Start: keys[990], End: keys[1201]}, {Start: keys[1000] + "\x00"}, {End: keys[1]}} {
		var got []string
		err := s.Walk(ctx, r, func(e fs.Entry) error {
			got = append(got, e.Path)
			return nil
		})
		if err != nil {
			t.Fatalf("Walk(%+v): %v", r, err)
		}
		var want []string
		for _, k := range keys {
			if r.Contains(k) {
				want = append(want, k)
			}
		}
		if len(got) != len(want) || (len(got) > 0 && (got[0] != want[0] || got[len(got)-1] != want[len(want)-1])) {
			t.Errorf("Walk(%+v): %d keys [%s … %s], want %d", r, len(got), first(got), last(got), len(want))
		}
	}
	stats := e.srv.Stats()
	if n := stats.Requests["ListObjects"]; n < 2 {
		t.Errorf("walking 1300 keys took %d ListObjects requests, want pages of at most 1000", n)
	}
}
