package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	ufsdk "github.com/ufilesdk-dev/ufile-gosdk"
)

// dest reads a destination bucket back for the checks, with the store's
// own client (never Ferry's code): it lists keys, downloads objects and
// lists the multipart uploads left open.
type dest interface {
	// list returns every key under prefix.
	list(ctx context.Context, prefix string) ([]string, error)
	// get writes the object's bytes to w.
	get(ctx context.Context, key string, w io.Writer) error
	// openUploads returns how many multipart uploads are open in the
	// bucket.
	openUploads(ctx context.Context) (int, error)
}

var (
	_ dest = (*s3Dest)(nil)
	_ dest = (*us3Dest)(nil)
)

// s3Dest is a MinIO bucket read with aws-sdk-go-v2.
type s3Dest struct {
	c      *s3.Client
	bucket string
}

func (d *s3Dest) list(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(d.c, &s3.ListObjectsV2Input{Bucket: aws.String(d.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", d.bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

func (d *s3Dest) get(ctx context.Context, key string, w io.Writer) error {
	out, err := d.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("get s3://%s/%s: %w", d.bucket, key, err)
	}
	defer out.Body.Close()
	if _, err := io.Copy(w, out.Body); err != nil {
		return fmt.Errorf("read s3://%s/%s: %w", d.bucket, key, err)
	}
	return nil
}

func (d *s3Dest) openUploads(ctx context.Context) (int, error) {
	n := 0
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(d.bucket)}
	for {
		out, err := d.c.ListMultipartUploads(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("list uploads of s3://%s: %w", d.bucket, err)
		}
		n += len(out.Uploads)
		if !aws.ToBool(out.IsTruncated) {
			return n, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// us3Dest is a bucket of the US3 emulator read with the real ufile-gosdk.
type us3Dest struct {
	e      *emuServer
	bucket string
}

// sdk returns a new SDK request (the SDK is not safe for concurrent use).
func (d *us3Dest) sdk() (*ufsdk.UFileRequest, error) {
	req, err := ufsdk.NewFileRequest(&ufsdk.Config{PublicKey: emuPub, PrivateKey: emuKey,
		BucketName: d.bucket, Endpoint: d.e.endpoint()}, &http.Client{Timeout: time.Minute})
	if err != nil {
		return nil, fmt.Errorf("open us3 sdk: %w", err)
	}
	return req, nil
}

func (d *us3Dest) list(ctx context.Context, prefix string) ([]string, error) {
	req, err := d.sdk()
	if err != nil {
		return nil, err
	}
	var keys []string
	marker := ""
	for ctx.Err() == nil {
		l, err := req.ListObjects(prefix, marker, "", 1000)
		if err != nil {
			return nil, fmt.Errorf("list us3://%s/%s: %w", d.bucket, prefix, err)
		}
		for _, c := range l.Contents {
			keys = append(keys, c.Key)
		}
		if !l.IsTruncated || l.NextMarker == "" {
			return keys, nil
		}
		marker = l.NextMarker
	}
	return nil, fmt.Errorf("list us3://%s/%s: %w", d.bucket, prefix, ctx.Err())
}

func (d *us3Dest) get(_ context.Context, key string, w io.Writer) error {
	req, err := d.sdk()
	if err != nil {
		return err
	}
	if err := req.DownloadFile(w, key); err != nil {
		return fmt.Errorf("get us3://%s/%s: %w", d.bucket, key, err)
	}
	return nil
}

func (d *us3Dest) openUploads(ctx context.Context) (int, error) {
	ups, err := d.e.pendingUploads(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range ups {
		if u.Bucket == d.bucket {
			n++
		}
	}
	return n, nil
}
