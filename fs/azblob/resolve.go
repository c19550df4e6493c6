package azblob

import (
	"context"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ferry-project/ferry/fs"
)

// isClash reports whether a path segment is fs.ClashName of a file name.
func isClash(seg string) bool {
	return len(seg) > len(fs.ClashSuffix) && strings.HasSuffix(seg, fs.ClashSuffix)
}

// keyOf maps a path of the bucket's tree to its prefix-relative key. clash
// reports that the last segment is a clash name (the file beside a
// same-named directory). Segments cut with a hash are found by listing
// their parent. A path that is not the canonical form of its key
// (fs.KeyToPath) does not exist.
func (b *bucket) keyOf(ctx context.Context, p string) (key string, clash bool, err error) {
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
				if k, err = b.findSegment(ctx, key, seg); err != nil {
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
func (b *bucket) findSegment(ctx context.Context, parent, seg string) (string, error) {
	base := b.full(parent)
	name, found := "", false
	err := b.listLevel(ctx, base, func(blobs []*container.BlobItem, dirs []string) (bool, error) {
		for _, it := range blobs {
			if it.Name == nil {
				continue
			}
			if n := strings.TrimPrefix(*it.Name, base); fs.EscapeSegment(n) == seg {
				name, found = n, true
				return false, nil
			}
		}
		for _, d := range dirs {
			if n := strings.TrimSuffix(strings.TrimPrefix(d, base), "/"); fs.EscapeSegment(n) == seg {
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

// head describes the blob at the prefix-relative key as a tree entry (Get
// Blob Properties).
func (b *bucket) head(ctx context.Context, key string) (fs.Entry, error) {
	resp, err := b.blob(key).GetProperties(ctx, nil)
	if err != nil {
		return fs.Entry{}, wrap("get properties", b.label(key), err)
	}
	return fileEntry(key, blobProps(resp)), nil
}

// dirExists reports whether any blob lies under "key/".
func (b *bucket) dirExists(ctx context.Context, key string) (bool, error) {
	pager := b.cc.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: ptr(b.full(key + "/")), MaxResults: ptr(int32(1))})
	resp, err := pager.NextPage(ctx)
	if err != nil {
		return false, wrap("list blobs", b.label(key+"/"), err)
	}
	return resp.Segment != nil && len(resp.Segment.BlobItems) > 0, nil
}
