package azblob

import (
	"context"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/internal/objdir"
)

// dir is the bucket as objdir sees it: key resolution and ReadDir are
// objdir's, shared with the other flat object stores.
func (b *bucket) dir() objdir.Store {
	return objdir.Store{Full: b.full, Level: b.level, ListDir: b.listDir, Head: b.head, DirExists: b.dirExists, DirEntry: dirEntry}
}

// keyOf is objdir.Store.KeyOf: a path of the bucket's tree to its
// prefix-relative key, and whether its last segment is a clash name.
func (b *bucket) keyOf(ctx context.Context, p string) (key string, clash bool, err error) {
	return b.dir().KeyOf(ctx, p)
}

// level lists the direct children of the full prefix base a page at a
// time (objdir.Store.Level).
func (b *bucket) level(ctx context.Context, base string, fn func(files, dirs []string) (bool, error)) error {
	return b.listLevel(ctx, base, func(blobs []*container.BlobItem, dirs []string) (bool, error) {
		files := make([]string, 0, len(blobs))
		for _, it := range blobs {
			if it.Name != nil {
				files = append(files, *it.Name)
			}
		}
		return fn(files, dirs)
	})
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
