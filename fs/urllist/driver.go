package urllist

import (
	"context"
	"fmt"

	"github.com/ferry-project/ferry/fs"
)

// Driver is the registry entry of URL lists: "urllist:///abs/list.txt"
// locations, read as a Tree (opened with base, its Concurrency the
// Options' Conns). A URL list reads no variable and cannot be written or
// listed as a destination. base.SQLite must name the SQLite driver the
// caller linked (see Options).
func Driver(base Options) fs.Driver {
	return fs.Driver{
		Schemes: []string{"urllist"},
		Shape:   fs.PathShape,
		OpenTree: func(ctx context.Context, u fs.URI, o fs.Options) (fs.Tree, error) {
			lo := base
			lo.Concurrency = o.Conns
			t, err := Open(ctx, u.Path, lo)
			if err != nil {
				return nil, fmt.Errorf("source: %w", err)
			}
			return t, nil
		},
	}
}
