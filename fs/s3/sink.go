package s3

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ferry-project/ferry/fs"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Size limits of S3 multipart uploads, and Ferry's single-put cut-off.
const (
	// MaxSinglePut is where Put stops and multipart starts: S3 takes up to
	// 5 GiB in one PUT, but a large single PUT is one stream (no part
	// parallelism) that must restart from zero on any error, so objects
	// above 64 MiB go multipart for speed and cheaper retries.
	MaxSinglePut = 64 << 20
	MinPartSize  = 5 << 20
	MaxPartSize  = 5 << 30
	MaxParts     = 10000
)

// Limits reports S3's multipart limits and Ferry's single-put cut-off.
func (s *Store) Limits() fs.Limits {
	return fs.Limits{MaxSinglePut: MaxSinglePut, MinPartSize: MinPartSize, MaxPartSize: MaxPartSize, MaxParts: MaxParts}
}

// Head describes key; an absent key gives an error wrapping fs.ErrNotExist.
func (s *Store) Head(ctx context.Context, key string) (fs.ObjectInfo, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.full(key))})
	if err != nil {
		return fs.ObjectInfo{}, s.wrap("head", s.full(key), err)
	}
	return fs.ObjectInfo{Key: key, Size: aws.ToInt64(out.ContentLength), ETag: unquote(aws.ToString(out.ETag)),
		ModTime: aws.ToTime(out.LastModified)}, nil
}

// Put stores size bytes from r at key with one PutObject (Content-Length
// set; r is read from its current position). A body that carries its MD5
// (fs.SummedBody) is sent with Content-MD5, so the store refuses
// damaged bytes. ModTime of the result is unset.
func (s *Store) Put(ctx context.Context, key string, r io.ReadSeeker, size int64) (fs.ObjectInfo, error) {
	resp, err := s.wire.do(ctx, http.MethodPut, s.wire.objectURL(s.full(key), nil), r, size, bodyMD5(r), nil)
	if err != nil {
		return fs.ObjectInfo{}, s.wrap("put", s.full(key), err)
	}
	drain(resp)
	return fs.ObjectInfo{Key: key, Size: size, ETag: unquote(resp.Header.Get("ETag"))}, nil
}

// bodyMD5 returns the MD5 a fs.SummedBody carries (the Store's
// PartHash is MD5), or nil.
func bodyMD5(r io.Reader) []byte {
	if sb, ok := r.(fs.SummedBody); ok {
		return sb.PartSum()
	}
	return nil
}

// CreateMultipart starts a multipart upload; S3 takes the requested part
// size as it is (the size argument is not sent).
func (s *Store) CreateMultipart(ctx context.Context, key string, size, partSize int64) (fs.Upload, error) {
	out, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(s.full(key)),
	})
	if err != nil {
		return fs.Upload{}, s.wrap("create multipart", s.full(key), err)
	}
	return fs.Upload{ID: aws.ToString(out.UploadId), PartSize: partSize}, nil
}

// UploadPart uploads part n (0-based; n+1 on the wire) of size bytes,
// with Content-MD5 when r carries its MD5 (fs.SummedBody).
func (s *Store) UploadPart(ctx context.Context, key, uploadID string, n int, r io.ReadSeeker, size int64) (fs.Part, error) {
	q := url.Values{"partNumber": {strconv.Itoa(n + 1)}, "uploadId": {uploadID}}
	resp, err := s.wire.do(ctx, http.MethodPut, s.wire.objectURL(s.full(key), q), r, size, bodyMD5(r), nil)
	if err != nil {
		return fs.Part{}, s.wrap(fmt.Sprintf("upload part %d of", n), s.full(key), err)
	}
	drain(resp)
	return fs.Part{Number: n, Size: size, ETag: unquote(resp.Header.Get("ETag"))}, nil
}

// ListParts returns the parts S3 holds for an upload, 0-based and in
// order, following every page. An unknown upload wraps fs.ErrNotExist.
func (s *Store) ListParts(ctx context.Context, key, uploadID string) ([]fs.Part, error) {
	in := &s3.ListPartsInput{Bucket: aws.String(s.bucket), Key: aws.String(s.full(key)), UploadId: aws.String(uploadID),
		MaxParts: aws.Int32(s.pageSize)}
	var parts []fs.Part
	for {
		out, err := s.client.ListParts(ctx, in)
		if err != nil {
			return nil, s.wrap("list parts of", s.full(key), err)
		}
		for _, p := range out.Parts {
			parts = append(parts, fs.Part{Number: int(aws.ToInt32(p.PartNumber)) - 1, Size: aws.ToInt64(p.Size),
				ETag: unquote(aws.ToString(p.ETag))})
		}
		next := aws.ToString(out.NextPartNumberMarker)
		if !aws.ToBool(out.IsTruncated) || next == "" || next == aws.ToString(in.PartNumberMarker) {
			return parts, nil
		}
		in.PartNumberMarker = aws.String(next)
	}
}

// CompleteMultipart assembles parts (numbers 0-based, sent as n+1). The
// result's Size is the sum of the part sizes.
func (s *Store) CompleteMultipart(ctx context.Context, key, uploadID string, parts []fs.Part) (fs.ObjectInfo, error) {
	done := make([]types.CompletedPart, len(parts))
	var size int64
	for i, p := range parts {
		done[i] = types.CompletedPart{PartNumber: aws.Int32(int32(p.Number + 1)), ETag: aws.String(`"` + p.ETag + `"`)}
		size += p.Size
	}
	out, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(s.bucket),
		Key:             aws.String(s.full(key)),
		UploadId:        aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	})
	if err != nil {
		return fs.ObjectInfo{}, s.wrap("complete multipart", s.full(key), err)
	}
	return fs.ObjectInfo{Key: key, Size: size, ETag: unquote(aws.ToString(out.ETag))}, nil
}

// AbortMultipart discards an upload; an unknown upload (NoSuchUpload, 404)
// is not an error.
func (s *Store) AbortMultipart(ctx context.Context, key, uploadID string) error {
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(s.full(key)), UploadId: aws.String(uploadID),
	})
	if err != nil && apiCode(err) != "NoSuchUpload" && httpStatus(err) != 404 {
		return s.wrap("abort multipart", s.full(key), err)
	}
	return nil
}

// Delete removes key; deleting a missing key is not an error (S3 answers
// 204 either way).
func (s *Store) Delete(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.full(key))})
	if err != nil {
		return s.wrap("delete", s.full(key), err)
	}
	return nil
}
