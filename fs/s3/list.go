package s3

import (
	"context"
	"fmt"
	"net/url"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// pageSize is the number of keys (or parts) asked for per listing page.
const pageSize = 1000

// listReq is one listing: bucket keys under prefix, after startAfter,
// grouped by delimiter when set.
type listReq struct {
	prefix, startAfter, delimiter string
	maxKeys                       int32
}

// page is one decoded listing page.
type page struct {
	objects  []types.Object // Key already URL-decoded
	prefixes []string       // common prefixes, URL-decoded
}

// list calls fn for each page of req, in key order, one page in memory at
// a time, until the listing ends or fn returns false or an error. Keys are
// requested URL-encoded (XML cannot carry every byte a key may hold) and
// decoded here when the store says it encoded them.
func (s *Store) list(ctx context.Context, req listReq, fn func(page) (bool, error)) error {
	in := &s3.ListObjectsV2Input{
		Bucket:       aws.String(s.bucket),
		Prefix:       aws.String(req.prefix),
		EncodingType: types.EncodingTypeUrl,
		MaxKeys:      aws.Int32(s.pageSize),
		// Archived objects' restore status (see archive.go); stores
		// that do not know the header ignore it.
		OptionalObjectAttributes: []types.OptionalObjectAttributes{types.OptionalObjectAttributesRestoreStatus},
	}
	if req.maxKeys > 0 {
		in.MaxKeys = aws.Int32(req.maxKeys)
	}
	if req.startAfter != "" {
		in.StartAfter = aws.String(req.startAfter)
	}
	if req.delimiter != "" {
		in.Delimiter = aws.String(req.delimiter)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		out, err := s.client.ListObjectsV2(ctx, in)
		if err != nil {
			if apiCode(err) == "XMinioInvalidObjectName" {
				// MinIO refuses prefixes it could never store ("x//"):
				// nothing lies under them.
				return nil
			}
			return s.wrap("list", req.prefix, err)
		}
		pg, err := decodePage(out)
		if err != nil {
			return fmt.Errorf("list %s/%s: %w", s.bucket, req.prefix, err)
		}
		more, err := fn(pg)
		if err != nil || !more {
			return err
		}
		if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextContinuationToken) == "" {
			return nil
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

// decodePage URL-decodes keys and prefixes when the response says so.
func decodePage(out *s3.ListObjectsV2Output) (page, error) {
	encoded := out.EncodingType == types.EncodingTypeUrl
	dec := func(s string) (string, error) {
		if !encoded {
			return s, nil
		}
		d, err := url.QueryUnescape(s)
		if err != nil {
			return "", fmt.Errorf("decode key %q: %w", s, err)
		}
		return d, nil
	}
	pg := page{objects: out.Contents}
	for i := range pg.objects {
		k, err := dec(aws.ToString(pg.objects[i].Key))
		if err != nil {
			return page{}, err
		}
		pg.objects[i].Key = aws.String(k)
	}
	for _, cp := range out.CommonPrefixes {
		p, err := dec(aws.ToString(cp.Prefix))
		if err != nil {
			return page{}, err
		}
		pg.prefixes = append(pg.prefixes, p)
	}
	return pg, nil
}

// startAfterFor returns a key below every valid UTF-8 key ≥ start, for
// ListObjectsV2's exclusive StartAfter (S3 keys are UTF-8, and a StartAfter
// must be too). Keys between it and start are filtered by the caller.
// "" means list from the beginning.
func startAfterFor(start string) string {
	for i := 0; i < len(start); {
		r, n := utf8.DecodeRuneInString(start[i:])
		if r == utf8.RuneError && n <= 1 {
			// Invalid byte at i. No valid key continues start[:i] with a
			// byte ≥ 0xF5, so above start means above start[:i] followed by
			// the largest rune; below 0xF5, start[:i] is a safe bound.
			if start[i] >= 0xF5 {
				return start[:i] + string(utf8.MaxRune)
			}
			return start[:i]
		}
		i += n
	}
	// Valid: drop the last rune to get a key strictly below start.
	_, n := utf8.DecodeLastRuneInString(start)
	return start[:len(start)-n]
}
