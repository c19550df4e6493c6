package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ferry-project/ferry/fs"
)

// sinkAttempts is how often one sink call is tried.
const sinkAttempts = 4

// sinkDo runs fn until it succeeds, fails permanently (sink.IsPermanent),
// ctx ends or sinkAttempts run out, backing off between tries. The error
// is a failure whose message starts with op; it is retryable unless the
// sink called it permanent.
func (j *job) sinkDo(ctx context.Context, op string, fn func() error) error {
	var err error
	wait := j.x.opts.RetryWaitMin
	for i := 0; i < sinkAttempts; i++ {
		if err = fn(); err == nil {
			return nil
		}
		if ctx.Err() != nil || j.sink.IsPermanent(err) || i == sinkAttempts-1 {
			break
		}
		t := time.NewTimer(wait/2 + rand.N(wait))
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		wait = min(2*wait, j.x.opts.RetryWaitMax)
	}
	if j.sink.IsPermanent(err) {
		return fail(err, "%s: %v", op, err)
	}
	return retryf(err, "%s: %v", op, err)
}

// put stores body as the whole object; sum is its part hash (nil when the
// sink is no Checksummer).
func (j *job) put(ctx context.Context, body []byte, sum []byte) (fs.ObjectInfo, error) {
	var info fs.ObjectInfo
	err := j.sinkDo(ctx, "store object", func() error {
		var err error
		info, err = j.sink.Put(ctx, j.t.Key, bytes.NewReader(body), int64(len(body)))
		return err
	})
	if err != nil {
		return info, err
	}
	return j.verify(ctx, info, [][]byte{sum}, int64(len(body)), 0, false)
}

// verify checks what the destination reports against the bytes sent: the
// predicted ETag when the sink is a Checksummer and can predict it, else
// the size from Head. It returns the object's info with its ETag.
func (j *job) verify(ctx context.Context, info fs.ObjectInfo, sums [][]byte, size, partSize int64, multipart bool) (fs.ObjectInfo, error) {
	if cs, ok := j.sink.(fs.Checksummer); ok && info.ETag != "" {
		if want := cs.ObjectETag(sums, size, partSize, multipart); want != "" {
			if want != info.ETag {
				err := fmt.Errorf("destination ETag %s does not match the bytes sent (want %s)", info.ETag, want)
				return info, retryf(err, "verify: %v", err)
			}
			info.Size = size
			return info, nil
		}
	}
	var head fs.ObjectInfo
	err := j.sinkDo(ctx, "verify object", func() error {
		var err error
		head, err = j.sink.Head(ctx, j.t.Key)
		return err
	})
	if err != nil {
		return info, err
	}
	if head.Size != size {
		err := fmt.Errorf("destination holds %d bytes, %d were sent", head.Size, size)
		return info, retryf(err, "verify: %v", err)
	}
	if info.ETag == "" {
		info.ETag = head.ETag
	}
	info.Size = size
	return info, nil
}

// upload is one multipart upload in progress.
type upload struct {
	j        *job
	id       string
	partSize int64
	cs       fs.Checksummer // nil: parts are not verified

	mu    sync.Mutex
	parts map[int]fs.Part
	sums  map[int][]byte
}

// startUpload creates a multipart upload for size bytes (-1 unknown).
func (j *job) startUpload(ctx context.Context, size, partSize int64) (*upload, error) {
	hint := size
	if hint < 0 {
		// An upper bound for sinks that check it: the most this upload can hold.
		hint = partSize * int64(max(j.sink.Limits().MaxParts, 1))
	}
	var up fs.Upload
	err := j.sinkDo(ctx, "start multipart upload", func() error {
		var err error
		up, err = j.sink.CreateMultipart(ctx, j.t.Key, hint, partSize)
		return err
	})
	if err != nil {
		return nil, err
	}
	if up.PartSize <= 0 {
		up.PartSize = partSize
	}
	u := &upload{j: j, id: up.ID, partSize: up.PartSize, parts: map[int]fs.Part{}, sums: map[int][]byte{}}
	u.cs, _ = j.sink.(fs.Checksummer)
	return u, nil
}

// put uploads part n from body; sum is its part hash (nil: unchecked).
func (u *upload) put(ctx context.Context, n int, body []byte, sum []byte) error {
	var p fs.Part
	op := fmt.Sprintf("upload part %d", n)
	err := u.j.sinkDo(ctx, op, func() error {
		var err error
		p, err = u.j.sink.UploadPart(ctx, u.j.t.Key, u.id, n, bytes.NewReader(body), int64(len(body)))
		if err == nil && u.cs != nil && sum != nil {
			if want := u.cs.PartETag(sum, int64(len(body))); want != "" && want != p.ETag {
				err = fmt.Errorf("destination ETag %s of part %d does not match the bytes sent (want %s)", p.ETag, n, want)
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	p.Number, p.Size = n, int64(len(body))
	u.mu.Lock()
	u.parts[n], u.sums[n] = p, sum
	u.mu.Unlock()
	return nil
}

// complete assembles parts 0..count-1 and verifies the object.
func (u *upload) complete(ctx context.Context, count int, size int64) (fs.ObjectInfo, error) {
	u.mu.Lock()
	parts := make([]fs.Part, count)
	sums := make([][]byte, count)
	for n := range count {
		p, ok := u.parts[n]
		if !ok {
			u.mu.Unlock()
			err := fmt.Errorf("part %d missing", n)
			return fs.ObjectInfo{}, retryf(err, "complete upload: %v", err)
		}
		parts[n], sums[n] = p, u.sums[n]
	}
	u.mu.Unlock()
	var info fs.ObjectInfo
	err := u.j.sinkDo(ctx, "complete multipart upload", func() error {
		var err error
		info, err = u.j.sink.CompleteMultipart(ctx, u.j.t.Key, u.id, parts)
		return err
	})
	if err != nil {
		return info, err
	}
	if u.cs == nil {
		sums = nil
	}
	return u.j.verify(ctx, info, sums, size, u.partSize, true)
}

// abort discards the upload, even when ctx has ended.
func (u *upload) abort(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := u.j.sink.AbortMultipart(ctx, u.j.t.Key, u.id); err != nil && !errors.Is(err, context.Canceled) {
		u.j.x.opts.Logger.Warn("abort multipart upload", "task", u.j.t.ID, "key", u.j.t.Key, "err", err)
	}
}
