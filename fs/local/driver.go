package local

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/ferry-project/ferry/fs"
)

// Driver is the registry entry of local directories: fs.FileScheme
// locations ("/abs/path", "./rel", "file:///abs/path"), read as a Tree,
// written as a Sink (hashing with Options.MD5) and listed as a Tree. A
// directory reads no variable. Its Place resolves symbolic links, so two
// spellings of one directory overlap.
func Driver() fs.Driver {
	return fs.Driver{
		Schemes: []string{fs.FileScheme},
		Shape:   fs.PathShape,
		OpenTree: func(ctx context.Context, u fs.URI, o fs.Options) (fs.Tree, error) {
			t, err := New(u.Path)
			if err != nil {
				return nil, fs.ConfigError{Err: fmt.Errorf("source: %w", err)}
			}
			return t, nil
		},
		OpenSink: func(ctx context.Context, u fs.URI, o fs.Options) (fs.Sink, error) {
			sk, err := NewSinkWith(u.Path, SinkOptions{MD5: o.MD5})
			if err != nil {
				return nil, fs.ConfigError{Err: fmt.Errorf("destination: %w", err)}
			}
			return sk, nil
		},
		OpenLister: func(ctx context.Context, u fs.URI, o fs.Options) (fs.Tree, error) {
			t, err := New(u.Path)
			if err != nil {
				return nil, fs.ConfigError{Err: fmt.Errorf("destination: %w", err)}
			}
			return t, nil
		},
		Place: func(u fs.URI, o fs.Options) (fs.Place, bool) {
			return fs.Place{Space: fs.FileScheme, Path: resolvePath(u.Path), Sep: string(filepath.Separator)}, true
		},
	}
}

// resolvePath makes p absolute and resolves symbolic links in the part of
// it that exists, so that two spellings of one directory compare equal.
func resolvePath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	rest := ""
	for dir := abs; ; dir = filepath.Dir(dir) {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(real, rest)
		}
		if parent := filepath.Dir(dir); parent == dir {
			return abs
		}
		rest = filepath.Join(filepath.Base(dir), rest)
	}
}
