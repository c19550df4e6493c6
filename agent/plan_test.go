package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/local"
)

// checkCover fails unless ranges are contiguous from "" to no end and every
// key of keys lies in exactly one of them; it returns keys per range.
func checkCover(t *testing.T, ranges []catalog.RangeSpec, keys []string) []int {
	t.Helper()
	if len(ranges) == 0 || ranges[0].Start != "" || ranges[len(ranges)-1].End != "" {
		t.Fatalf("ranges do not span everything: %+v", ranges)
	}
	for i := 1; i < len(ranges); i++ {
		if ranges[i].Start != ranges[i-1].End || ranges[i].Start <= ranges[i-1].Start {
			t.Fatalf("ranges %d and %d are not contiguous and ordered: %+v %+v", i-1, i, ranges[i-1], ranges[i])
		}
	}
	per := make([]int, len(ranges))
	for _, k := range keys {
		n := 0
		for i, r := range ranges {
			if (fs.Range{Start: r.Start, End: r.End}).Contains(k) {
				per[i]++
				n++
			}
		}
		if n != 1 {
			t.Fatalf("key %q lies in %d ranges", k, n)
		}
	}
	return per
}

func walkKeys(t *testing.T, tr fs.Tree) []string {
	t.Helper()
	var keys []string
	if err := tr.Walk(context.Background(), fs.All, func(e fs.Entry) error {
		keys = append(keys, e.ObjectKey())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestPlanRanges(t *testing.T) {
	root := t.TempDir()
	makeFiles(t, filepath.Join(root, "small"), 20, 4000, "p")
	makeFiles(t, root, 1, 3, "top") // files next to the directory
	tr, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	keys := walkKeys(t, tr)
	ranges, err := PlanRanges(context.Background(), tr, PlanOptions{Ranges: 64, MinFiles: 20})
	if err != nil {
		t.Fatal(err)
	}
	per := checkCover(t, ranges, keys)
	if len(ranges) < 32 || len(ranges) > 130 {
		t.Fatalf("%d ranges for a target of 64", len(ranges))
	}
	for i, n := range per[1 : len(per)-1] {
		if n < 20 {
			t.Fatalf("range %d holds %d objects, fewer than MinFiles", i+1, n)
		}
	}
	biggest := 0
	for _, n := range per {
		biggest = max(biggest, n)
	}
	if biggest > len(keys)/8 {
		t.Fatalf("a range holds %d of %d objects: planning did not look below the top directory", biggest, len(keys))
	}

	// With the default of 1000 files per range, 20 directories of 200 files
	// give a range per directory.
	ranges, err = PlanRanges(context.Background(), tr, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if per := checkCover(t, ranges, keys); len(per) != 21 || per[1] != 200 {
		t.Fatalf("default planning: objects per range %v, want one range per directory", per)
	}

	// A listing budget of one directory still covers everything.
	ranges, err = PlanRanges(context.Background(), tr, PlanOptions{Ranges: 64, ReadDirs: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkCover(t, ranges, keys)

	// At most NamesPerDir names of one directory are read.
	ranges, err = PlanRanges(context.Background(), tr, PlanOptions{Ranges: 1000, NamesPerDir: 3, MinFiles: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkCover(t, ranges, keys)
}

func TestPlanRanges_unreadableRoot(t *testing.T) {
	root := t.TempDir()
	tr, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if _, err := PlanRanges(context.Background(), tr, PlanOptions{}); err == nil {
		t.Fatal("planning a vanished root succeeded")
	}
}

func TestPlanPaths(t *testing.T) {
	var paths []string
	for i := 0; i < 25; i++ {
		paths = append(paths, fmt.Sprintf("p%03d", i))
	}
	ranges := PlanPaths(paths, 10)
	if len(ranges) != 3 || len(ranges[0].Paths) != 10 || len(ranges[2].Paths) != 5 {
		t.Fatalf("PlanPaths = %+v", ranges)
	}
	checkCover(t, ranges, paths)
	got := normalizePaths([]string{"/b", "a", "b", "", "//c"})
	if fmt.Sprint(got) != "[a b c]" {
		t.Fatalf("normalizePaths = %v", got)
	}
}

func TestSplitKey(t *testing.T) {
	root := t.TempDir()
	makeFiles(t, root, 2, 100, "s")
	tr, _ := local.New(root)
	keys := walkKeys(t, tr)
	sort.Strings(keys)
	ctx := context.Background()
	k, ok, err := splitKey(ctx, tr, keys[10], "", 1000, 5)
	if err != nil || !ok || k != keys[10+45] {
		t.Fatalf("splitKey over 90 keys = %q, %v, %v; want the middle key %q", k, ok, err, keys[55])
	}
	// The probe stops at its cap and splits what it saw.
	k, ok, _ = splitKey(ctx, tr, "", "", 20, 5)
	if !ok || k != keys[10] {
		t.Fatalf("capped probe = %q, %v; want %q", k, ok, keys[10])
	}
	// Too little left: no split.
	if _, ok, _ := splitKey(ctx, tr, keys[97], "", 1000, 5); ok {
		t.Fatal("split a range with 3 objects left")
	}
}
