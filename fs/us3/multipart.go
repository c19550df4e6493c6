package us3

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-project/ferry/fs"
)

// listPartsPage is how many parts one ListParts request asks for.
const listPartsPage = 1000

// CreateMultipart starts a multipart upload (POST /key?uploads). The part
// size is the BlkSize the service returns, whatever partSize was asked.
func (s *Store) CreateMultipart(ctx context.Context, key string, size, partSize int64) (fs.Upload, error) {
	var out struct {
		UploadID string `json:"UploadId"`
		BlkSize  int64
	}
	_, err := s.doJSON(ctx, call{
		op: "initiate multipart upload", method: http.MethodPost, key: s.fullKey(key),
		query: "uploads", contentType: contentType(key), size: -1,
	}, &out)
	if err != nil {
		return fs.Upload{}, err
	}
	if out.UploadID == "" || out.BlkSize <= 0 {
		return fs.Upload{}, &Error{Op: "initiate multipart upload", Key: s.fullKey(key),
			Err: fmt.Errorf("reply lacks UploadId or BlkSize (got BlkSize %d)", out.BlkSize)}
	}
	return fs.Upload{ID: out.UploadID, PartSize: out.BlkSize}, nil
}

// UploadPart uploads part n (0-based on the wire too) of exactly size bytes
// from r, read from its start.
func (s *Store) UploadPart(ctx context.Context, key, uploadID string, n int, r io.ReadSeeker, size int64) (fs.Part, error) {
	if n < 0 || size < 0 {
		return fs.Part{}, permanentf("upload part %d of %q: invalid part number or size %d", n, key, size)
	}
	op := "upload part " + strconv.Itoa(n)
	h, err := s.doDiscard(ctx, call{
		op: op, method: http.MethodPut, key: s.fullKey(key),
		query:       "partNumber=" + strconv.Itoa(n) + "&uploadId=" + url.QueryEscape(uploadID),
		contentType: contentType(key), body: r, size: size,
	})
	if err != nil {
		return fs.Part{}, err
	}
	etag := etagOf(h)
	if etag == "" {
		return fs.Part{}, &Error{Op: op, Key: s.fullKey(key), Err: errors.New("reply has no ETag")}
	}
	return fs.Part{Number: n, Size: size, ETag: etag}, nil
}

// partList is the ListParts reply.
type partList struct {
	NextPartNumberMarker int
	IsTruncated          bool
	Parts                []struct {
		PartNum      int
		Etag         string
		Size         int64
		LastModified int64
	}
}

// ListParts returns the parts the service holds for an upload, ordered by
// number (GET /?muploadpart, paginated). An unknown upload gives an error
// wrapping fs.ErrNotExist.
func (s *Store) ListParts(ctx context.Context, key, uploadID string) ([]fs.Part, error) {
	var parts []fs.Part
	marker := 0
	for {
		q := url.Values{}
		q.Set("uploadId", uploadID)
		q.Set("max-parts", strconv.Itoa(listPartsPage))
		q.Set("part-number-marker", strconv.Itoa(marker))
		var page partList
		_, err := s.doJSON(ctx, call{
			op: "list parts", method: http.MethodGet, key: "",
			query: "muploadpart&" + q.Encode(), size: -1,
		}, &page)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				e.Key = s.fullKey(key) // name the object, not the bucket, in the message
			}
			return nil, err
		}
		added := false
		for _, p := range page.Parts {
			if len(parts) > 0 && p.PartNum <= parts[len(parts)-1].Number {
				continue // a marker that is inclusive repeats the last part
			}
			parts = append(parts, fs.Part{Number: p.PartNum, Size: p.Size, ETag: strings.Trim(p.Etag, `"`)})
			added = true
		}
		if !page.IsTruncated {
			return parts, nil
		}
		if !added || page.NextPartNumberMarker == marker {
			return nil, &Error{Op: "list parts", Key: s.fullKey(key), Err: errors.New("truncated listing does not advance")}
		}
		marker = page.NextPartNumberMarker
	}
}

// CompleteMultipart assembles the parts (POST /key?uploadId=, body = part
// ETags joined by ","). parts must be ordered and contiguous from 0.
func (s *Store) CompleteMultipart(ctx context.Context, key, uploadID string, parts []fs.Part) (fs.ObjectInfo, error) {
	etags := make([]string, len(parts))
	var total int64
	for i, p := range parts {
		if p.Number != i || p.ETag == "" {
			return fs.ObjectInfo{}, permanentf("complete multipart upload %q: part %d is number %d with ETag %q, want contiguous parts from 0 with ETags", key, i, p.Number, p.ETag)
		}
		etags[i] = p.ETag
		total += p.Size
	}
	body := strings.Join(etags, ",")
	op := "finish multipart upload"
	resp, err := s.do(ctx, call{
		op: op, method: http.MethodPost, key: s.fullKey(key),
		query: "uploadId=" + url.QueryEscape(uploadID), contentType: contentType(key),
		body: strings.NewReader(body), size: int64(len(body)),
	})
	if err != nil {
		return fs.ObjectInfo{}, err
	}
	defer resp.Body.Close()
	h := resp.Header
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxErrBody))
	if err != nil {
		return fs.ObjectInfo{}, &Error{Op: op, Key: s.fullKey(key), Err: fmt.Errorf("read response: %w", err)}
	}
	size := total
	// The reply body ({"Bucket","Key","FileSize"}) is informative only.
	var out struct{ FileSize *int64 }
	if json.Unmarshal(reply, &out) == nil && out.FileSize != nil {
		size = *out.FileSize
	}
	mt := modTimeOf(h)
	if mt.IsZero() {
		mt = time.Now()
	}
	return fs.ObjectInfo{Key: key, Size: size, ETag: etagOf(h), ModTime: mt}, nil
}

// AbortMultipart discards an upload (DELETE /key?uploadId=). An unknown
// upload (404) is not an error.
func (s *Store) AbortMultipart(ctx context.Context, key, uploadID string) error {
	_, err := s.doDiscard(ctx, call{
		op: "abort multipart upload", method: http.MethodDelete, key: s.fullKey(key),
		query: "uploadId=" + url.QueryEscape(uploadID), size: -1,
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
