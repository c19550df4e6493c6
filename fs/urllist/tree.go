// Package urllist serves a list of HTTP(S) URLs as a read-only fs.Tree.
//
// A list file holds either plain URLs, one per line, or Google Storage
// Transfer Service's TsvHttpData-1.0 format (a first line "TsvHttpData-1.0",
// then "URL<TAB>size<TAB>base64-MD5" lines; size and MD5 may be left out).
// Blank lines and lines starting with '#' are ignored in both. A malformed
// line stops Open with an error naming its line number.
//
// Each URL has the object key "host/path" (what a migration writes to the
// destination, Entry.ObjectKey()) and appears in the tree at
// fs.KeyToPath(key):
//   - host is lower-cased; a non-default port stays as "host:port" (':' is
//     legal in Linux file names); scheme and user info are dropped;
//   - path is the percent-decoded URL path, mapped segment by segment by
//     fs.KeyToPath ("http://h/a//b" → "h/a/%%/b", "http://h/d/" → "h/d/%%");
//   - a query string stays in the last segment as written, with '/' as
//     "%2F" ("http://h/get?id=1" → "h/get?id=1"); a fragment is dropped.
//
// The first URL that maps to a path wins; later duplicates (http and https
// of one URL, say) are logged and skipped. Directories are derived from the
// paths; a file whose path is also a directory is shown as
// fs.ClashName(name), keeping its key.
//
// Sizes come from the TSV list; otherwise Open sends a HEAD per URL (at most
// Options.Concurrency at a time), or a GET with "Range: bytes=0-0" when HEAD
// is refused. A URL that cannot be sized (404, reset, 5xx after retries)
// does not stop the listing: it appears with Size 0 and Version
// "unreachable", and Open of its path returns the reason, wrapping
// fs.ErrNotExist (404, 410), fs.ErrPermission (401, 403) or ErrUnreachable,
// so the engine marks that one object failed. ModTime is the server's
// Last-Modified, or the list file's modification time when unknown.
//
// Reads are pinned to one version of each URL: the ETag (else the
// Last-Modified) its HEAD gave, or its first response when the list gave
// the size. Every GET carries it (If-Match or If-Unmodified-Since, and
// If-Range when ranged) and every answer is checked against it, so a URL
// replaced while it is copied gives an error wrapping fs.ErrChanged, never
// bytes of two versions; the URL is then probed again, Stat and Walk
// describe its new version and OpenEntry refuses the old entry. A server
// that names no version (neither ETag nor Last-Modified) is held to its
// size only: see pin for what that leaves unchecked.
//
// Memory stays bounded whatever the list's length: Open streams the list
// once into a SQLite index in a temporary directory (Options.TempDir), and
// Walk and ReadDir read that index page by page. Tree.Close removes it.
package urllist

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/ferry-project/ferry/fs"
)

// Options configure Open. The zero value is ready to use.
type Options struct {
	// HTTPClient sends the requests; nil means a pooled client with dial,
	// TLS-handshake and response-header timeouts. Either way requests go
	// through go-retryablehttp.
	HTTPClient *http.Client
	// Concurrency bounds the HEAD requests that size URLs whose size the
	// list does not give (default 8).
	Concurrency int
	// RetryMax is how often a request is retried after a connection error,
	// a 429 or a 5xx, and a download resumed after a broken body; never
	// after a 404 (default 4; negative means no retries).
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff between
	// retries (defaults 1s and 30s).
	RetryWaitMin, RetryWaitMax time.Duration
	// IdleTimeout aborts (and retries) a download that receives no byte for
	// that long (default 2 minutes).
	IdleTimeout time.Duration
	// TempDir is where the index directory is created (default os.TempDir()).
	TempDir string
	// SQLite is the database/sql driver name of github.com/mattn/go-sqlite3
	// (whose DSN parameters the index uses), registered by the caller
	// ("sqlite3" after a blank import): the index is on disk, so memory
	// stays bounded whatever the list's length, and fs/... links no SQLite.
	// Required: Open fails without it.
	SQLite string
	// Logger receives warnings about duplicates and unreachable URLs
	// (default slog.Default()).
	Logger *slog.Logger
}

// Summary counts what Open found.
type Summary struct {
	Files       int // URLs in the tree
	Duplicates  int // URLs skipped because an earlier one has the same path
	Probed      int // URLs sized with HEAD or GET
	Unreachable int // URLs that could not be sized (Version "unreachable")
}

// Tree is a URL list as a read-only tree. It is safe for concurrent use.
type Tree struct {
	ix       *index
	client   *retryablehttp.Client
	log      *slog.Logger
	listTime time.Time // ModTime of entries the servers give no date for
	idle     time.Duration
	summary  Summary
}

var (
	_ fs.Tree           = (*Tree)(nil)
	_ fs.Hasher         = (*Tree)(nil)
	_ fs.SequentialOnly = (*Tree)(nil)
	_ fs.EntryOpener    = (*Tree)(nil)
)

// Open reads the list at listPath, sizes the URLs it gives no size for and
// returns the tree. The caller must Close it.
func Open(ctx context.Context, listPath string, o Options) (*Tree, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 2 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	f, err := os.Open(listPath)
	if err != nil {
		return nil, fmt.Errorf("open url list: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open url list: %w", err)
	}
	lr, err := newListReader(f)
	if err != nil {
		return nil, fmt.Errorf("open url list %s: %w", listPath, err)
	}
	ix, err := openIndex(ctx, o.TempDir, o.SQLite)
	if err != nil {
		return nil, fmt.Errorf("open url list %s: %w", listPath, err)
	}
	t := &Tree{ix: ix, client: newClient(o), log: o.Logger, listTime: st.ModTime().UTC(), idle: o.IdleTimeout}
	if err := t.load(ctx, lr, o.Concurrency); err != nil {
		ix.close()
		return nil, fmt.Errorf("open url list %s: %w", listPath, err)
	}
	t.log.Info("urllist: list indexed", "list", listPath, "files", t.summary.Files,
		"duplicates", t.summary.Duplicates, "probed", t.summary.Probed, "unreachable", t.summary.Unreachable)
	return t, nil
}

// load indexes the list and sizes what it must.
func (t *Tree) load(ctx context.Context, lr *listReader, concurrency int) error {
	files, dups, err := build(ctx, t.ix, lr, t.log)
	if err != nil {
		return err
	}
	probed, unreachable, err := t.sizeAll(ctx, concurrency)
	if err != nil {
		return err
	}
	t.summary = Summary{Files: files, Duplicates: dups, Probed: probed, Unreachable: unreachable}
	return nil
}

// Summary reports what Open found.
func (t *Tree) Summary() Summary { return t.summary }

// Close removes the index. Files opened from the tree must be closed first.
func (t *Tree) Close() error {
	t.client.HTTPClient.CloseIdleConnections()
	return t.ix.close()
}
