package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ferry-project/ferry/internal/units"
	"github.com/ferry-project/ferry/transfer"
)

// progressPrinter shows a redrawn bar on a terminal and a periodic line
// otherwise, until stop is called.
type progressPrinter struct {
	w        io.Writer
	tty      bool
	interval time.Duration
	line     func(tty bool) string // the text of one line; tty: it is redrawn
	done     chan struct{}
	stopped  chan struct{}
}

// checkProgress validates --progress and --progress-interval: the mode is
// auto, bar, line or none and the interval is positive (whatever the mode,
// so that a value is never accepted on one machine and refused on another).
func checkProgress(mode string, interval time.Duration) error {
	switch mode {
	case "auto", "bar", "line", "none":
	default:
		return usageErr("--progress %q: want auto, bar, line or none", mode)
	}
	if interval <= 0 {
		return usageErr("--progress-interval %s: must be more than 0 (e.g. 10s)", interval)
	}
	return nil
}

// isTerminal reports whether w is a character device other than the null
// device (which is one too, but shows no bar).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(st, null)
}

// defaultProgressInterval is the line interval when none (or a
// non-positive one) is given.
const defaultProgressInterval = 10 * time.Second

// startProgress starts printing progress to w in mode (auto, bar, line or
// none; checkProgress validates both values) until stop is called.
func startProgress(w io.Writer, mode string, interval time.Duration, snap func() transfer.Progress) *progressPrinter {
	return startLinePrinter(w, mode, interval, func(tty bool) string { return renderProgress(snap(), tty) })
}

// startLinePrinter prints line's text to w in mode (as startProgress) until
// stop is called: redrawn on a terminal, else one "progress: " line every
// interval.
func startLinePrinter(w io.Writer, mode string, interval time.Duration, line func(tty bool) string) *progressPrinter {
	p := &progressPrinter{w: w, line: line, interval: interval, done: make(chan struct{}), stopped: make(chan struct{})}
	switch mode {
	case "none":
		close(p.stopped)
		return p
	case "bar":
		p.tty = true
	case "line":
	default:
		p.tty = isTerminal(w)
	}
	if p.tty {
		p.interval = 200 * time.Millisecond
	}
	if p.interval <= 0 {
		p.interval = defaultProgressInterval
	}
	go p.loop()
	return p
}

func (p *progressPrinter) loop() {
	defer close(p.stopped)
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			if p.tty {
				fmt.Fprintf(p.w, "\r%s\n", p.line(p.tty))
			}
			return
		case <-t.C:
			if p.tty {
				fmt.Fprintf(p.w, "\r%s", p.line(p.tty))
			} else {
				fmt.Fprintf(p.w, "progress: %s\n", p.line(p.tty))
			}
		}
	}
}

func (p *progressPrinter) stop() {
	select {
	case <-p.stopped:
		return
	default:
	}
	close(p.done)
	<-p.stopped
}

// renderProgress formats one progress line of a copy: objects, bytes,
// rate and ETA, after a bar when it is redrawn on a terminal.
func renderProgress(s transfer.Progress, tty bool) string {
	finished := s.Copied + s.Failed
	rate := 0.0
	if sec := s.Elapsed.Seconds(); sec > 0 {
		rate = float64(s.BytesDone) / sec
	}
	eta := "?"
	if s.WalkDone && rate > 0 {
		eta = units.Duration(time.Duration(float64(s.Bytes-s.BytesDone) / rate * float64(time.Second)))
	}
	var bar string
	if tty {
		frac := 0.0
		if s.Bytes > 0 {
			frac = float64(s.BytesDone) / float64(s.Bytes)
		} else if s.Planned > 0 {
			frac = float64(finished) / float64(s.Planned)
		}
		n := int(frac * 20)
		bar = "[" + strings.Repeat("#", min(n, 20)) + strings.Repeat(".", 20-min(n, 20)) + "] "
	}
	walk := ""
	if !s.WalkDone {
		walk = "+"
	}
	return fmt.Sprintf("%sobjects %d/%d%s (unchanged %d, failed %d)  %s/%s  %s/s  ETA %s   ",
		bar, finished, s.Planned, walk, s.Unchanged, s.Failed,
		units.Bytes(s.BytesDone), units.Bytes(s.Bytes), units.Bytes(int64(rate)), eta)
}
