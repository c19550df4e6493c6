package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ferry-project/ferry/fs"
)

// copyLimit copies the named objects of srcPrefix on MinIO (all of one
// size) to the target, each with one ranged GET into memory and one PUT,
// workers at a time, through Ferry's own S3 driver and Sink: no walk, no
// catalog, no hashing, no verification. It is what the servers serve and
// accept for this copy on this machine, the copy's counterpart of the
// ingest limit.
func (s *servers) copyLimit(workload, tool, srcPrefix string, names []string, total int64, to target, servers ...*serverProc) *contender {
	return &contender{
		workload: workload, tool: tool, objects: len(names), bytes: total, servers: servers,
		run: func(ctx context.Context, i int, sw *stopwatch) (int64, error) {
			src, err := s.minioStore(ctx, srcPrefix)
			if err != nil {
				return 0, fmt.Errorf("open source %s: %w", srcPrefix, err)
			}
			sink, err := s.sink(ctx, to.store, to.prefix(i))
			if err != nil {
				return 0, err
			}
			size := total / int64(max(len(names), 1))
			sw.start()
			defer sw.stop()
			return 0, copyAll(ctx, src, sink, s.c.workers, names, size)
		},
		cleanup: func(ctx context.Context, i int) error { return s.deletePrefix(ctx, to.store, to.prefix(i)) },
	}
}

// copyAll reads each name (size bytes) from src and puts it under the
// same key, workers at a time. It returns the first error.
func copyAll(ctx context.Context, src fs.EntryOpener, dst fs.Sink, workers int, names []string, size int64) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	bufs := sync.Pool{New: func() any { return make([]byte, size) }}
	parallel(workers, func(send func(string)) {
		for _, name := range names {
			if ctx.Err() != nil {
				return
			}
			send(name)
		}
	}, func(name string) {
		buf := bufs.Get().([]byte)
		defer bufs.Put(buf)
		if err := copyOne(ctx, src, dst, name, buf); err != nil {
			cancel(err)
		}
	})
	return context.Cause(ctx)
}

func copyOne(ctx context.Context, src fs.EntryOpener, dst fs.Sink, name string, buf []byte) error {
	f, err := src.OpenEntry(ctx, fs.Entry{Path: name, Size: int64(len(buf))})
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	n, err := f.ReadAt(buf, 0)
	f.Close()
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if n != len(buf) {
		return fmt.Errorf("read %s: %d of %d bytes", name, n, len(buf))
	}
	if _, err := dst.Put(ctx, name, bytes.NewReader(buf), int64(n)); err != nil {
		return fmt.Errorf("put %s: %w", name, err)
	}
	return nil
}
