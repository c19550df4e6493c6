package s3

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-project/ferry/fs"
)

// isClash reports whether a path segment is fs.ClashName of a file name.
// Escaped names never contain the suffix (base64url and hex have no '%'),
// and valid names never contain fs.EscapeMark, so the suffix is unambiguous.
func isClash(seg string) bool {
	return len(seg) > len(fs.ClashSuffix) && strings.HasSuffix(seg, fs.ClashSuffix)
}

// keyOf maps a tree path to its prefix-relative object key. clash reports
// that the last segment is a clash name (the file beside a same-named
// directory). Segments cut with a hash are found by listing their parent.
// A path that is not the canonical form of its key (fs.KeyToPath) does not
// exist.
func (s *Store) keyOf(ctx context.Context, p string) (key string, clash bool, err error) {
	segs := strings.Split(p, "/")
	last := len(segs) - 1
	if clash = isClash(segs[last]); clash {
		segs[last] = strings.TrimSuffix(segs[last], fs.ClashSuffix)
	}
	canonical := strings.Join(segs, "/")
	key, exact := fs.PathToKey(canonical)
	if !exact {
		key = ""
		for i, seg := range segs {
			k, ok := fs.UnescapeSegment(seg)
			if !ok {
				if k, err = s.findSegment(ctx, key, seg); err != nil {
					return "", false, err
				}
			}
			key += k
			if i < last {
				key += "/"
			}
		}
	}
	if key == "" || fs.KeyToPath(key) != canonical {
		return "", false, fmt.Errorf("resolve %q: %w", p, fs.ErrNotExist)
	}
	return key, clash, nil
}

// findSegment lists the directory parent (a prefix-relative key, "" or
// ending in '/') for the child whose escaped name is seg, and returns the
// child's raw name.
func (s *Store) findSegment(ctx context.Context, parent, seg string) (string, error) {
	base := s.full(parent)
	name, found := "", false
	err := s.list(ctx, listReq{prefix: base, delimiter: "/"}, func(pg page) (bool, error) {
		for _, o := range pg.objects {
			if n := strings.TrimPrefix(aws.ToString(o.Key), base); fs.EscapeSegment(n) == seg {
				name, found = n, true
				return false, nil
			}
		}
		for _, cp := range pg.prefixes {
			if n := strings.TrimSuffix(strings.TrimPrefix(cp, base), "/"); fs.EscapeSegment(n) == seg {
				name, found = n, true
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return "", fmt.Errorf("resolve %q: %w", seg, err)
	}
	if !found {
		return "", fmt.Errorf("resolve %q in %q: %w", seg, parent, fs.ErrNotExist)
	}
	return name, nil
}

// head describes the object at the prefix-relative key as a tree entry.
func (s *Store) head(ctx context.Context, key string) (fs.Entry, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.full(key))})
	if err != nil {
		return fs.Entry{}, s.wrap("head", s.full(key), err)
	}
	e := fileEntry(key, aws.ToInt64(out.ContentLength), aws.ToString(out.ETag),
		aws.ToTime(out.LastModified), aws.ToString(out.VersionId))
	e.Archive = headArchive(string(out.StorageClass), aws.ToString(out.Restore))
	return e, nil
}
