package s3

import (
	iofs "io/fs"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-project/ferry/fs"
)

// File and directory modes of the read-only tree.
const (
	fileMode = 0o444
	dirMode  = iofs.ModeDir | 0o555
)

// fileEntry builds the entry of the object at the prefix-relative key rel.
// Path is fs.KeyToPath(rel); Key is rel when that differs. versionID, when
// present (versioned buckets, HeadObject only), is appended to Version.
func fileEntry(rel string, size int64, etag string, mtime time.Time, versionID string) fs.Entry {
	e := fs.Entry{
		Path:    fs.KeyToPath(rel),
		Size:    size,
		ModTime: mtime,
		Mode:    fileMode,
		ETag:    unquote(etag),
	}
	e.Version = e.ETag
	if versionID != "" && versionID != "null" {
		e.Version += "@" + versionID
	}
	if e.Version == "" {
		// A store without ETags: size and time still detect most changes.
		e.Version = mtime.UTC().Format(time.RFC3339Nano)
	}
	if e.Path != rel {
		e.Key = rel
	}
	return e
}

// objectEntry builds the entry of a listed object.
func objectEntry(rel string, o types.Object) fs.Entry {
	e := fileEntry(rel, aws.ToInt64(o.Size), aws.ToString(o.ETag), aws.ToTime(o.LastModified), "")
	e.Archive = listArchive(o)
	return e
}

// dirEntry is the entry of a directory at path p.
func dirEntry(p string) fs.Entry { return fs.Entry{Path: p, Mode: dirMode} }

// unquote strips the quotes S3 puts around ETags.
func unquote(etag string) string { return strings.Trim(etag, `"`) }
