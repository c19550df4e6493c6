package s3

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/internal/objdir"
)

// dir is the store as objdir sees it: key resolution and ReadDir are
// objdir's, shared with the other flat object stores.
func (s *Store) dir() objdir.Store {
	return objdir.Store{Full: s.full, Level: s.level, ListDir: s.listDir, Head: s.head, DirExists: s.dirExists, DirEntry: dirEntry}
}

// keyOf is objdir.Store.KeyOf: a tree path's prefix-relative key, and
// whether its last segment is a clash name.
func (s *Store) keyOf(ctx context.Context, p string) (key string, clash bool, err error) {
	return s.dir().KeyOf(ctx, p)
}

// level lists the direct children of the full prefix base a page at a
// time (objdir.Store.Level).
func (s *Store) level(ctx context.Context, base string, fn func(files, dirs []string) (bool, error)) error {
	return s.list(ctx, listReq{prefix: base, delimiter: "/"}, func(pg page) (bool, error) {
		files := make([]string, 0, len(pg.objects))
		for _, o := range pg.objects {
			files = append(files, aws.ToString(o.Key))
		}
		return fn(files, pg.prefixes)
	})
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
