package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/us3"
)

// deleteWorkers is the concurrency of cleanup deletes.
const deleteWorkers = 16

// deletePrefix removes every object and pending multipart upload under
// prefix in bucket "bench" of store "s3" (MinIO) or "us3" (us3emu),
// through the store's API.
func (s *servers) deletePrefix(ctx context.Context, store, prefix string) error {
	if store == "us3" {
		return s.deleteUS3Prefix(ctx, prefix)
	}
	return s.deleteS3Prefix(ctx, prefix)
}

// deleteS3Prefix lists prefix on MinIO a page (1,000 keys) at a time and
// deletes each page with one DeleteObjects, deleteWorkers pages at once,
// then aborts the prefix's pending multipart uploads.
func (s *servers) deleteS3Prefix(ctx context.Context, prefix string) error {
	cl := s.minio.Client()
	var errs errList
	fail := errs.add
	parallel(deleteWorkers, func(send func([]types.ObjectIdentifier)) {
		p := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: aws.String("bench"), Prefix: aws.String(prefix)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				fail(fmt.Errorf("list %s: %w", prefix, err))
				return
			}
			ids := make([]types.ObjectIdentifier, 0, len(page.Contents))
			for _, o := range page.Contents {
				ids = append(ids, types.ObjectIdentifier{Key: o.Key})
			}
			if len(ids) > 0 {
				send(ids)
			}
		}
	}, func(ids []types.ObjectIdentifier) {
		out, err := cl.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("bench"),
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err == nil && len(out.Errors) > 0 {
			e := out.Errors[0]
			err = fmt.Errorf("%d keys not deleted, first %s: %s", len(out.Errors), aws.ToString(e.Key), aws.ToString(e.Message))
		}
		if err != nil {
			fail(fmt.Errorf("delete objects under %s: %w", prefix, err))
		}
	})

	ups, err := cl.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("bench"), Prefix: aws.String(prefix)})
	if err != nil {
		fail(fmt.Errorf("list uploads under %s: %w", prefix, err))
	} else {
		for _, u := range ups.Uploads {
			if _, err := cl.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("bench"),
				Key: u.Key, UploadId: u.UploadId}); err != nil {
				fail(fmt.Errorf("abort upload of %s: %w", aws.ToString(u.Key), err))
			}
		}
	}
	return errs.join()
}

// deleteUS3Prefix walks prefix on us3emu and deletes every object with
// deleteWorkers requests in flight, then aborts the prefix's pending
// multipart uploads (found through the emulator's admin API).
func (s *servers) deleteUS3Prefix(ctx context.Context, prefix string) error {
	st, err := us3.New(ctx, us3.Config{PublicKey: emuPub, PrivateKey: emuKey, Bucket: "bench", Prefix: prefix, Endpoint: s.emuURL})
	if err != nil {
		return fmt.Errorf("delete %s: %w", prefix, err)
	}
	var errs errList
	fail := errs.add
	parallel(deleteWorkers, func(send func(string)) {
		err := st.Walk(ctx, fs.All, func(e fs.Entry) error {
			send(e.ObjectKey())
			return nil
		})
		if err != nil {
			fail(fmt.Errorf("list %s: %w", prefix, err))
		}
	}, func(k string) {
		if err := st.Delete(ctx, k); err != nil {
			fail(fmt.Errorf("delete %s%s: %w", prefix, k, err))
		}
	})

	root, err := us3.New(ctx, us3.Config{PublicKey: emuPub, PrivateKey: emuKey, Bucket: "bench", Endpoint: s.emuURL})
	if err != nil {
		return fmt.Errorf("abort uploads under %s: %w", prefix, err)
	}
	ups, err := s.emuUploads(ctx)
	if err != nil {
		fail(err)
	}
	for _, u := range ups {
		if strings.HasPrefix(u.Key, prefix) {
			if err := root.AbortMultipart(ctx, u.Key, u.UploadID); err != nil {
				fail(fmt.Errorf("abort upload of %s: %w", u.Key, err))
			}
		}
	}
	return errs.join()
}

// emuUpload is one pending upload as us3emu's admin API lists it.
type emuUpload struct {
	Key      string `json:"key"`
	UploadID string `json:"upload_id"`
}

// emuUploads lists us3emu's pending multipart uploads (GET
// /_us3emu/uploads).
func (s *servers) emuUploads(ctx context.Context) ([]emuUpload, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.emuURL+"/_us3emu/uploads", nil)
	if err != nil {
		return nil, fmt.Errorf("list us3emu uploads: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("list us3emu uploads: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("list us3emu uploads: %s", resp.Status)
	}
	var ups []emuUpload
	if err := json.NewDecoder(resp.Body).Decode(&ups); err != nil {
		return nil, fmt.Errorf("list us3emu uploads: %w", err)
	}
	return ups, nil
}

// leftovers lists the top-level names in bucket "bench" of both servers
// other than the seeded sources (src/, keys*/): what a cleanup missed.
func (s *servers) leftovers(ctx context.Context) ([]string, error) {
	var out []string
	seeded := func(name string) bool { return name == "src" || strings.HasPrefix(name, "keys") }
	for _, store := range []string{"s3", "us3"} {
		sink, err := s.sink(ctx, store, "")
		if err != nil {
			return nil, err
		}
		tree, ok := sink.(fs.Tree)
		if !ok {
			return nil, fmt.Errorf("list %s: its sink is no tree", store)
		}
		err = tree.ReadDir(ctx, "", func(e fs.Entry) error {
			if !seeded(e.Path) {
				out = append(out, store+"://bench/"+e.Path)
			}
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("list %s: %w", store, err)
		}
	}
	return out, nil
}

// errList collects errors from concurrent workers.
type errList struct {
	mu   sync.Mutex
	errs []error
}

func (l *errList) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

// join returns every collected error (errors.Join), or nil.
func (l *errList) join() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return errors.Join(l.errs...)
}
