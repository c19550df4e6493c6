package agent

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
)

// PlanOptions bound range planning.
type PlanOptions struct {
	// Ranges is the number of ranges to aim for (default 128).
	Ranges int
	// ReadDirs caps how many directories are listed (default 64).
	ReadDirs int
	// NamesPerDir caps how many names of one directory are read (default
	// 10,000); the rest of a bigger directory stays in one range, which
	// idle agents later split.
	NamesPerDir int
	// MinFiles is the fewest files of one directory a range is cut to
	// (default 1000); a subdirectory counts as that many, since it may be
	// big. Small trees so get few ranges.
	MinFiles int
}

func (o PlanOptions) withDefaults() PlanOptions {
	if o.Ranges <= 0 {
		o.Ranges = 128
	}
	if o.ReadDirs <= 0 {
		o.ReadDirs = 64
	}
	if o.NamesPerDir <= 0 {
		o.NamesPerDir = 10000
	}
	if o.MinFiles <= 0 {
		o.MinFiles = 1000
	}
	return o
}

// errEnoughNames stops a ReadDir that reached NamesPerDir.
var errEnoughNames = errors.New("enough names")

// PlanRanges cuts a tree's key space into ranges [start, end) from a shallow
// listing: the root is listed, then its subdirectories level by level, each
// directory contributing evenly spaced names as range boundaries, until
// about o.Ranges ranges exist or the listing budget is spent. It never
// holds more than NamesPerDir names of one directory. The ranges always
// cover every path: the first starts at "" and the last has no end. A root
// that cannot be listed is an error.
func PlanRanges(ctx context.Context, t fs.Tree, o PlanOptions) ([]catalog.RangeSpec, error) {
	o = o.withDefaults()
	bounds := map[string]bool{}
	level := []string{""}
	listed := 0
	for len(level) > 0 && listed < o.ReadDirs && len(bounds) < o.Ranges/2 {
		perDir := max(1, (o.Ranges-len(bounds))/len(level))
		var next []string
		for _, dir := range level {
			if listed >= o.ReadDirs {
				break
			}
			names, err := sampleDir(ctx, t, dir, o.NamesPerDir)
			listed++
			if err != nil {
				if dir == "" {
					return nil, fmt.Errorf("list source: %w", err)
				}
				continue // an unreadable subdirectory only makes planning coarser
			}
			for _, e := range pickBounds(names, perDir, o.MinFiles) {
				key := e.ObjectKey()
				if e.IsDir() {
					key += "/"
				}
				bounds[key] = true
			}
			for _, e := range names {
				if e.IsDir() {
					next = append(next, e.Path)
				}
			}
		}
		level = next
	}
	keys := make([]string, 0, len(bounds))
	for k := range bounds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]catalog.RangeSpec, 0, len(keys)+1)
	start := ""
	for _, k := range keys {
		out = append(out, catalog.RangeSpec{Start: start, End: k})
		start = k
	}
	return append(out, catalog.RangeSpec{Start: start}), nil
}

// sampleDir lists up to limit names of dir.
func sampleDir(ctx context.Context, t fs.Tree, dir string, limit int) ([]fs.Entry, error) {
	var names []fs.Entry
	err := t.ReadDir(ctx, dir, func(e fs.Entry) error {
		names = append(names, e)
		if len(names) >= limit {
			return errEnoughNames
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnoughNames) {
		return nil, err
	}
	return names, nil
}

// pickBounds chooses the names of one directory that start a new range:
// at most about n of them, evenly by weight (a file weighs 1, a directory
// minFiles), and never fewer than minFiles of weight apart. The first name
// is never chosen: it starts where the directory does.
func pickBounds(es []fs.Entry, n, minFiles int) []fs.Entry {
	weight := func(e fs.Entry) int {
		if e.IsDir() {
			return minFiles
		}
		return 1
	}
	total := 0
	for _, e := range es {
		total += weight(e)
	}
	step := max(minFiles, (total+n-1)/n)
	var out []fs.Entry
	acc := 0
	for i, e := range es {
		if i > 0 && acc >= step {
			out = append(out, e)
			acc = 0
		}
		acc += weight(e)
	}
	return out
}

// PlanPaths cuts a sorted, duplicate-free list of paths into listed ranges
// of at most perRange paths that together cover every path.
func PlanPaths(paths []string, perRange int) []catalog.RangeSpec {
	if perRange <= 0 {
		perRange = 1000
	}
	var out []catalog.RangeSpec
	for i := 0; i < len(paths); i += perRange {
		chunk := paths[i:min(i+perRange, len(paths))]
		r := catalog.RangeSpec{Start: chunk[0], Paths: chunk}
		if i == 0 {
			r.Start = ""
		}
		if j := i + perRange; j < len(paths) {
			r.End = paths[j]
		}
		out = append(out, r)
	}
	return out
}

// normalizePaths sorts paths, drops duplicates and empty lines, and strips
// leading slashes so they are Tree paths.
func normalizePaths(in []string) []string {
	out := make([]string, 0, len(in))
	for _, p := range in {
		for len(p) > 0 && p[0] == '/' {
			p = p[1:]
		}
		if p != "" {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	j := 0
	for i, p := range out {
		if i == 0 || p != out[j-1] {
			out[j] = p
			j++
		}
	}
	return out[:j]
}
