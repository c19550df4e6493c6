package s3

import (
	iofs "io/fs"
	"sort"
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

// dirChild is one raw child of a listed directory: a file (entry set) or a
// sub-directory (a common prefix), named by its raw key segment.
type dirChild struct {
	name  string
	isDir bool
	key   string   // prefix-relative key of a file
	entry fs.Entry // a file's entry (Path is replaced)
}

// assembleDir turns one directory's raw children into the entries ReadDir
// shows at dir, applying fs/keys.go's rules: names are escaped; the folder
// marker (the zero-size object named by the empty segment, shown as "%%")
// is hidden; a file whose name a directory also has is shown as
// fs.ClashName(name); entries come sorted by name.
func assembleDir(dir string, children []dirChild) []fs.Entry {
	dirs := make(map[string]bool)
	for _, c := range children {
		if c.isDir {
			dirs[fs.EscapeSegment(c.name)] = true
		}
	}
	out := make([]fs.Entry, 0, len(children))
	for _, c := range children {
		name := fs.EscapeSegment(c.name)
		if c.isDir {
			out = append(out, dirEntry(join(dir, name)))
			continue
		}
		if c.name == "" && c.entry.Size == 0 {
			continue // folder marker: the directory itself shows instead
		}
		if dirs[name] {
			name = fs.ClashName(name)
		}
		e := c.entry
		e.Path, e.Key = join(dir, name), c.key
		if e.Key == e.Path {
			e.Key = ""
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// join joins a directory path and a child name ("" is the root).
func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
