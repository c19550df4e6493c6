package s3

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/test/miniotest"
)

// newStore returns a Store on srv's bucket and prefix with srv's keys.
func newStore(t *testing.T, srv *miniotest.Server, bucket, prefix string) *Store {
	t.Helper()
	st, err := New(context.Background(), Config{
		Provider: "minio", Endpoint: srv.Endpoint, Region: srv.Region,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey,
		Bucket: bucket, Prefix: prefix,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return st
}

// upload puts every key → content into bucket through the test's own
// client, four at a time.
func upload(t *testing.T, srv *miniotest.Server, bucket string, files map[string][]byte) {
	t.Helper()
	c := srv.Client()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for k, v := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := putRaw(c, bucket, k, v); err != nil {
				t.Errorf("upload %q: %v", k, err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

// putRaw stores one object through a plain client.
func putRaw(c *s3.Client, bucket, key string, data []byte) error {
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	})
	return err
}

// readBack returns a function reading bucket/prefix+key through srv's own
// client, mapping NoSuchKey to fs.ErrNotExist.
func readBack(srv *miniotest.Server, bucket, prefix string) func(context.Context, string) ([]byte, error) {
	c := srv.Client()
	return func(ctx context.Context, key string) ([]byte, error) {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + key)})
		if err != nil {
			if apiCode(err) == "NoSuchKey" {
				return nil, errors.Join(fs.ErrNotExist, err)
			}
			return nil, err
		}
		defer out.Body.Close()
		return io.ReadAll(out.Body)
	}
}

// walkAll collects every entry Walk yields for r.
func walkAll(t *testing.T, st *Store, r fs.Range) []fs.Entry {
	t.Helper()
	var got []fs.Entry
	if err := st.Walk(context.Background(), r, func(e fs.Entry) error { got = append(got, e); return nil }); err != nil {
		t.Fatalf("Walk(%+v): %v", r, err)
	}
	return got
}

// readDirAll collects ReadDir(dir).
func readDirAll(t *testing.T, st *Store, dir string) []fs.Entry {
	t.Helper()
	var got []fs.Entry
	if err := st.ReadDir(context.Background(), dir, func(e fs.Entry) error { got = append(got, e); return nil }); err != nil {
		t.Fatalf("ReadDir(%q): %v", dir, err)
	}
	return got
}

// readFile opens path and reads it whole through ReadAt.
func readFile(t *testing.T, st *Store, path string) []byte {
	t.Helper()
	f, err := st.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	defer f.Close()
	e, err := st.Stat(context.Background(), path)
	if err != nil {
		t.Fatalf("Stat(%q): %v", path, err)
	}
	b, err := io.ReadAll(io.NewSectionReader(f, 0, e.Size))
	if err != nil {
		t.Fatalf("read %q: %v", path, err)
	}
	return b
}
