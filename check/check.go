package check

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-project/ferry/fs"
)

// DefaultBuffer is the read buffer of one Download worker.
const DefaultBuffer = 256 << 10

// Options configure a Checker. The zero value compares presence, size and
// checksums, with every key selected.
type Options struct {
	// Steps compare an object present on both sides; nil means
	// DefaultSteps.
	Steps []Step
	// Download also reads both sides of every object that the steps found
	// the same, hashing both streams, to catch same-size different bytes.
	Download bool
	// Workers bounds the objects read at once with Download (default 4);
	// memory is about Workers × Buffer.
	Workers int
	// Buffer is each worker's read buffer (default DefaultBuffer).
	Buffer int
	// Match selects the paths to check (a source path, or a destination
	// path for a key only the destination holds); nil selects all.
	Match func(path string) bool
}

// Counts are the outcomes of a check, indexed by Kind.
type Counts [numKinds]int64

// Identical reports whether every key checked was the same on both sides.
func (c Counts) Identical() bool {
	for k, n := range c {
		if Kind(k) != Same && n != 0 {
			return false
		}
	}
	return true
}

// Differences counts the keys found missing, extra or different (every
// outcome but Same and Error).
func (c Counts) Differences() int64 {
	var n int64
	for k, v := range c {
		if Kind(k) != Same && Kind(k) != Error {
			n += v
		}
	}
	return n
}

// Progress is a snapshot of a running check.
type Progress struct {
	Counts   Counts
	Checked  int64 // keys decided so far
	Read     int64 // bytes read by Download, both sides
	Elapsed  time.Duration
	ListDone bool // both listings finished
}

// Checker compares a source with a destination. Progress may be called
// from any goroutine while Run runs.
type Checker struct {
	opts    Options
	start   time.Time
	counts  [numKinds]atomic.Int64
	read    atomic.Int64
	listed  atomic.Bool
	started atomic.Bool
}

// New returns a Checker with opts (defaults filled in).
func New(opts Options) *Checker {
	if opts.Steps == nil {
		opts.Steps = DefaultSteps()
	}
	if opts.Workers < 1 {
		opts.Workers = 4
	}
	if opts.Buffer < 1 {
		opts.Buffer = DefaultBuffer
	}
	return &Checker{opts: opts}
}

// Run checks every key of r on src and dst, calling report (never
// concurrently) for each key that is not the same: missing, extra,
// different, or not comparable (Error, whose Detail is the error). Keys
// are reported in key order, except that Download's findings come as the
// reads finish. An error from report or from a listing stops the check
// and is returned; a failed read of one object is an Error outcome, not
// an error of Run.
func (c *Checker) Run(ctx context.Context, src, dst fs.Tree, r fs.Range, report func(Difference) error) (Counts, error) {
	c.start = time.Now()
	c.started.Store(true)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	emit := func(d Difference) {
		if ctx.Err() != nil {
			return // stopped: what is decided after that is not counted
		}
		c.counts[d.Kind].Add(1)
		if d.Kind == Same {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		if err := report(d); err != nil {
			cancel(fmt.Errorf("report difference: %w", err))
		}
	}
	reads := make(chan [2]Object, c.opts.Workers)
	var wg sync.WaitGroup
	for range c.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, c.opts.Buffer)
			for p := range reads {
				emit(c.compareBytes(ctx, p[0], p[1], buf))
			}
		}()
	}
	err := Join(ctx, src, dst, r, func(s, d *fs.Entry) error {
		switch {
		case s == nil:
			if c.match(d.Path) {
				emit(Difference{Key: d.ObjectKey(), Kind: Extra, Detail: "only at the destination", Dst: d})
			}
		case !c.match(s.Path):
		case d == nil:
			emit(Difference{Key: s.ObjectKey(), Kind: Missing, Detail: "not at the destination", Src: s})
		default:
			so, do := Object{Entry: *s, Tree: src}, Object{Entry: *d, Tree: dst}
			diff := c.compare(ctx, so, do)
			if diff.Kind != Same || !c.opts.Download {
				emit(diff)
				break
			}
			select {
			case reads <- [2]Object{so, do}:
			case <-ctx.Done():
			}
		}
		return context.Cause(ctx)
	})
	close(reads)
	wg.Wait()
	c.listed.Store(true)
	if cause := context.Cause(ctx); cause != nil && (err == nil || errors.Is(err, context.Canceled)) {
		err = cause
	}
	return c.Progress().Counts, err
}

func (c *Checker) match(p string) bool { return c.opts.Match == nil || c.opts.Match(p) }

// compare runs the steps on an object present on both sides.
func (c *Checker) compare(ctx context.Context, s, d Object) Difference {
	diff := Difference{Key: s.ObjectKey(), Kind: Same, Src: &s.Entry, Dst: &d.Entry}
	for _, st := range c.opts.Steps {
		k, detail, err := st.Compare(ctx, s, d)
		if err != nil {
			diff.Kind, diff.Detail = Error, err.Error()
			return diff
		}
		if k != Same {
			diff.Kind, diff.Detail = k, detail
			return diff
		}
	}
	return diff
}

// compareBytes hashes both sides' bytes, one after the other, with buf.
func (c *Checker) compareBytes(ctx context.Context, s, d Object, buf []byte) Difference {
	diff := Difference{Key: s.ObjectKey(), Kind: Same, Src: &s.Entry, Dst: &d.Entry}
	hs, err := c.hash(ctx, s, buf)
	if err == nil {
		var hd string
		if hd, err = c.hash(ctx, d, buf); err == nil && hs != hd {
			diff.Kind, diff.Detail = Bytes, "md5 of bytes "+hs+" ≠ "+hd
		}
	}
	if err != nil {
		diff.Kind, diff.Detail = Error, err.Error()
	}
	return diff
}

// hash reads an object whole and returns the MD5 of its bytes in hex.
func (c *Checker) hash(ctx context.Context, o Object, buf []byte) (string, error) {
	var f fs.File
	var err error
	if eo, ok := o.Tree.(fs.EntryOpener); ok {
		f, err = eo.OpenEntry(ctx, o.Entry)
	} else {
		f, err = o.Tree.Open(ctx, o.Path)
	}
	if err != nil {
		return "", fmt.Errorf("open %q: %w", o.Path, err)
	}
	defer f.Close()
	h := md5.New()
	n, err := io.CopyBuffer(h, &countReader{r: io.NewSectionReader(f, 0, o.Size), n: &c.read}, buf)
	if err != nil {
		return "", fmt.Errorf("read %q: %w", o.Path, err)
	}
	if n != o.Size {
		return "", fmt.Errorf("read %q: %d bytes, listed as %d", o.Path, n, o.Size)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// countReader adds the bytes read to n.
type countReader struct {
	r io.Reader
	n *atomic.Int64
}

func (r *countReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n.Add(int64(n))
	return n, err
}

// Progress returns the counts so far.
func (c *Checker) Progress() Progress {
	p := Progress{Read: c.read.Load(), ListDone: c.listed.Load()}
	for k := range c.counts {
		p.Counts[k] = c.counts[k].Load()
		p.Checked += p.Counts[k]
	}
	if c.started.Load() {
		p.Elapsed = time.Since(c.start)
	}
	return p
}
