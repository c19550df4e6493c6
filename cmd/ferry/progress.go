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
	snap     func() transfer.Progress
	done     chan struct{}
	stopped  chan struct{}
}

// isTerminal reports whether w is a character device.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func startProgress(w io.Writer, mode string, interval time.Duration, snap func() transfer.Progress) *progressPrinter {
	p := &progressPrinter{w: w, snap: snap, interval: interval, done: make(chan struct{}), stopped: make(chan struct{})}
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
				fmt.Fprintf(p.w, "\r%s\n", p.render(p.snap()))
			}
			return
		case <-t.C:
			if p.tty {
				fmt.Fprintf(p.w, "\r%s", p.render(p.snap()))
			} else {
				fmt.Fprintf(p.w, "progress: %s\n", p.render(p.snap()))
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

// render formats one progress line: objects, bytes, rate and ETA.
func (p *progressPrinter) render(s transfer.Progress) string {
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
	if p.tty {
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
