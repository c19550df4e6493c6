package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"

	"github.com/ferry-project/ferry/fs"
	s3fs "github.com/ferry-project/ferry/fs/s3"
	"github.com/ferry-project/ferry/fs/us3"
)

// sink opens Ferry's Sink for bucket "bench" of store "s3" (MinIO) or
// "us3" (us3emu) under prefix.
func (s *servers) sink(ctx context.Context, store, prefix string) (fs.Sink, error) {
	var sink fs.Sink
	var err error
	if store == "us3" {
		sink, err = us3.New(ctx, us3.Config{PublicKey: emuPub, PrivateKey: emuKey, Bucket: "bench", Prefix: prefix, Endpoint: s.emuURL})
	} else {
		sink, err = s.minioStore(ctx, prefix)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s sink %s: %w", store, prefix, err)
	}
	return sink, nil
}

// minioStore opens Ferry's S3 driver on bucket "bench" of MinIO under
// prefix.
func (s *servers) minioStore(ctx context.Context, prefix string) (*s3fs.Store, error) {
	return s.minioStoreAt(ctx, s.minio.Endpoint, prefix)
}

// minioStoreAt is minioStore through endpoint (a proxy in front of MinIO).
func (s *servers) minioStoreAt(ctx context.Context, endpoint, prefix string) (*s3fs.Store, error) {
	return s3fs.New(ctx, s3fs.Config{Endpoint: endpoint, Region: s.minio.Region, AccessKey: s.minio.AccessKey,
		SecretKey: s.minio.SecretKey, PathStyle: true, Bucket: "bench", Prefix: prefix})
}

// ingest uploads the same number of objects of the same size as dir holds
// straight from memory, with the same concurrency, through Ferry's own
// Sink for the store: what the destination accepts on this machine (no
// source reads, no catalog, no verification).
func (s *servers) ingest(workload, tool string, to target, n int, size int64) *contender {
	return &contender{
		workload: workload, tool: tool, objects: n, bytes: size, servers: []*serverProc{s.proc(to.store)},
		run: func(ctx context.Context, i int, sw *stopwatch) (int64, error) {
			sink, err := s.sink(ctx, to.store, to.prefix(i))
			if err != nil {
				return 0, err
			}
			data := s.randomBytes(size / int64(max(n, 1)))
			body := bytes.NewReader(data)
			sw.start()
			err = uploadAll(ctx, sink, s.c.workers, n, func(k int) (string, io.ReaderAt, int64, error) {
				return fmt.Sprintf("obj-%06d", k), body, int64(len(data)), nil
			})
			sw.stop()
			return 0, err
		},
		cleanup: func(ctx context.Context, i int) error { return s.deletePrefix(ctx, to.store, to.prefix(i)) },
	}
}

// randomBytes returns size random bytes, the same slice for every call
// with the same size (the ingest rows of one workload share it).
func (s *servers) randomBytes(size int64) []byte {
	if b, ok := s.payloads[size]; ok {
		return b
	}
	b := make([]byte, size)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	if s.payloads == nil {
		s.payloads = map[int64][]byte{}
	}
	s.payloads[size] = b
	return b
}

// objectFunc describes object k of an upload: its key, its bytes (read
// concurrently) and its size.
type objectFunc func(k int) (key string, body io.ReaderAt, size int64, err error)

// uploadAll stores objects 0..n-1 with workers requests in flight, using
// multipart (8 MiB parts or the store's minimum) for objects above the
// sink's single-put limit. It returns the first error.
func uploadAll(ctx context.Context, sink fs.Sink, workers, n int, object objectFunc) error {
	l := sink.Limits()
	type job struct {
		key, id string
		body    io.ReaderAt
		size    int64
		part    int
		ps      int64
	}
	var mu sync.Mutex
	var first error
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
	}
	var uploads []job
	parallel(workers, func(send func(job)) {
		for k := 0; k < n && ctx.Err() == nil; k++ {
			key, body, size, err := object(k)
			if err != nil {
				fail(err)
				return
			}
			if size <= l.MaxSinglePut {
				send(job{key: key, body: body, size: size})
				continue
			}
			up, err := sink.CreateMultipart(ctx, key, size, max(8<<20, l.MinPartSize))
			if err != nil {
				fail(fmt.Errorf("upload %s: %w", key, err))
				return
			}
			u := job{key: key, id: up.ID, body: body, size: size, ps: up.PartSize}
			uploads = append(uploads, u)
			for p := 0; int64(p)*up.PartSize < size; p++ {
				u.part = p
				send(u)
			}
		}
	}, func(j job) {
		var err error
		if j.id == "" {
			_, err = sink.Put(ctx, j.key, io.NewSectionReader(j.body, 0, j.size), j.size)
		} else {
			off := int64(j.part) * j.ps
			ln := min(j.ps, j.size-off)
			_, err = sink.UploadPart(ctx, j.key, j.id, j.part, io.NewSectionReader(j.body, off, ln), ln)
		}
		if err != nil {
			fail(fmt.Errorf("upload %s: %w", j.key, err))
		}
	})
	if err := errors.Join(first, ctx.Err()); err != nil {
		return err
	}
	for _, u := range uploads {
		parts, err := sink.ListParts(ctx, u.key, u.id)
		if err != nil {
			return fmt.Errorf("upload %s: %w", u.key, err)
		}
		if _, err := sink.CompleteMultipart(ctx, u.key, u.id, parts); err != nil {
			return fmt.Errorf("upload %s: %w", u.key, err)
		}
	}
	return nil
}

// seedDir uploads the named files of dir (untimed setup) to prefix on
// MinIO under their own names.
func (s *servers) seedDir(ctx context.Context, dir string, names []string, prefix string) error {
	sink, err := s.sink(ctx, "s3", prefix)
	if err != nil {
		return err
	}
	var open []*os.File
	defer func() {
		for _, f := range open {
			f.Close()
		}
	}()
	err = uploadAll(ctx, sink, s.c.workers, len(names), func(k int) (string, io.ReaderAt, int64, error) {
		f, err := os.Open(filepath.Join(dir, names[k]))
		if err != nil {
			return "", nil, 0, fmt.Errorf("seed %s: %w", names[k], err)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return "", nil, 0, fmt.Errorf("seed %s: %w", names[k], err)
		}
		if fi.Size() > 1<<20 { // large: stream parts from the file
			open = append(open, f)
			return names[k], f, fi.Size(), nil
		}
		b, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return "", nil, 0, fmt.Errorf("seed %s: %w", names[k], err)
		}
		return names[k], bytes.NewReader(b), int64(len(b)), nil
	})
	if err != nil {
		return fmt.Errorf("seed %s: %w", prefix, err)
	}
	return nil
}

// fillKeys stores n empty objects under prefix on MinIO (untimed setup).
func (s *servers) fillKeys(ctx context.Context, prefix string, n int) error {
	sink, err := s.sink(ctx, "s3", prefix)
	if err != nil {
		return err
	}
	empty := bytes.NewReader(nil)
	err = uploadAll(ctx, sink, 32, n, func(k int) (string, io.ReaderAt, int64, error) {
		return fmt.Sprintf("obj-%06d", k), empty, 0, nil
	})
	if err != nil {
		return fmt.Errorf("fill %s: %w", prefix, err)
	}
	return nil
}
