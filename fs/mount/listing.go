package mount

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ferry-project/ferry/fs"
)

// child is one presentable entry of a directory listing.
type child struct {
	name  string
	entry fs.Entry
}

// listing is one snapshot of a directory, sorted by name; it is never
// modified after it is built, so readers share it without locking.
type listing struct {
	children []child
	at       time.Time
}

// find returns the child called name.
func (l *listing) find(name string) (child, bool) {
	i := sort.Search(len(l.children), func(i int) bool { return l.children[i].name >= name })
	if i < len(l.children) && l.children[i].name == name {
		return l.children[i], true
	}
	return child{}, false
}

// dirCache holds a directory's latest listing. One listing runs at a time
// per directory; concurrent callers wait for it and share the result.
type dirCache struct {
	mu     sync.Mutex
	cur    *listing
	warned map[string]bool // names already reported as skipped
}

// get returns a listing of dir no older than ttl, listing it again with
// tree.ReadDir when needed (from the start again after a transient error,
// until the mount's retry timeout). A failed listing is not cached.
func (c *dirCache) get(ctx context.Context, m *mountFS, dir string) (*listing, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil && time.Since(c.cur.at) < m.opts.listTTL() {
		return c.cur, nil
	}
	var l *listing
	err := m.retry.do(ctx, m.retry.deadline(), "list", dir, func() (err error) {
		l, err = c.list(ctx, m, dir)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.cur = l
	return l, nil
}

// list reads dir once, keeping only entries that can be shown: a name that
// is empty, "." or "..", longer than 255 bytes, contains '/' or NUL, is not
// under dir, or repeats an earlier name is skipped with one warning.
func (c *dirCache) list(ctx context.Context, m *mountFS, dir string) (*listing, error) {
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	l := &listing{at: time.Now()}
	sorted := true
	err := m.tree.ReadDir(ctx, dir, func(e fs.Entry) error {
		name, ok := strings.CutPrefix(e.Path, prefix)
		if !ok || !validName(name) {
			c.warn(m, e.Path, "name cannot be shown in a mount")
			return nil
		}
		if n := len(l.children); n > 0 && l.children[n-1].name >= name {
			sorted = false
		}
		l.children = append(l.children, child{name: name, entry: e})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list directory %q: %w", dir, err)
	}
	if !sorted {
		sort.SliceStable(l.children, func(i, j int) bool { return l.children[i].name < l.children[j].name })
		out := l.children[:0]
		for _, ch := range l.children {
			if len(out) > 0 && out[len(out)-1].name == ch.name {
				c.warn(m, ch.entry.Path, "duplicate name in listing")
				continue
			}
			out = append(out, ch)
		}
		l.children = out
	}
	return l, nil
}

// warn logs a skipped entry once per directory node.
func (c *dirCache) warn(m *mountFS, path, why string) {
	if c.warned == nil {
		c.warned = make(map[string]bool)
	}
	if c.warned[path] {
		return
	}
	c.warned[path] = true
	m.log.Warn("mount: skipping entry", "path", path, "reason", why)
}

// validName reports whether name can be a FUSE directory entry.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." && len(name) <= fs.MaxNameLen &&
		!strings.ContainsAny(name, "/\x00")
}
