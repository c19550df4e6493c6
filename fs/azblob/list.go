package azblob

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
)

// itemProps reads a listed blob's properties.
func itemProps(it *container.BlobItem) props {
	var p props
	if it.Properties == nil {
		return p
	}
	pr := it.Properties
	if pr.ContentLength != nil {
		p.size = *pr.ContentLength
	}
	p.md5 = pr.ContentMD5
	if pr.ETag != nil {
		p.etag = strings.Trim(string(*pr.ETag), `"`)
	}
	if pr.LastModified != nil {
		p.mtime = *pr.LastModified
	}
	if pr.AccessTier != nil {
		p.tier = string(*pr.AccessTier)
	}
	if pr.ArchiveStatus != nil {
		p.archive = string(*pr.ArchiveStatus)
	}
	return p
}

// listFlat lists every blob whose name starts with prefix (a full blob
// name prefix), one page at a time in name order, following the
// service's continuation markers, and calls fn with each page's blobs
// until fn returns false or an error. startFrom, when not "", asks the
// service to begin at that name (the service's startFrom, inclusive;
// services that ignore it list from the start, and one that refuses it
// with 400 is asked again without it, so fn must still skip names below
// its range).
func (b *bucket) listFlat(ctx context.Context, prefix, startFrom string, fn func([]*container.BlobItem) (bool, error)) error {
	opts := &container.ListBlobsFlatOptions{MaxResults: ptr(b.s.pageSize), Include: container.ListBlobsInclude{Metadata: true}}
	if prefix != "" {
		opts.Prefix = ptr(prefix)
	}
	if startFrom != "" {
		opts.StartFrom = ptr(startFrom)
	}
	pager := b.cc.NewListBlobsFlatPager(opts)
	first := true
	for pager.More() {
		if err := ctx.Err(); err != nil {
			return err
		}
		resp, err := pager.NextPage(ctx)
		var re *azcore.ResponseError
		if err != nil && first && opts.StartFrom != nil && errors.As(err, &re) && re.StatusCode == http.StatusBadRequest {
			// A service that refuses startFrom: list from the beginning.
			opts.StartFrom = nil
			pager = b.cc.NewListBlobsFlatPager(opts)
			continue
		}
		if err != nil {
			return wrap("list blobs", b.name+"/"+prefix, err)
		}
		first = false
		if resp.Segment == nil {
			continue
		}
		more, err := fn(files(resp.Segment.BlobItems))
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// files drops the directory blobs of accounts with a hierarchical
// namespace (Data Lake Storage Gen2): zero-length blobs with the metadata
// hdi_isfolder=true that stand for a directory, not a file (their
// contents are listed under "name/" anyway).
func files(items []*container.BlobItem) []*container.BlobItem {
	out := items[:0]
	for _, it := range items {
		if it == nil || it.Name == nil || isFolder(it.Metadata) {
			continue
		}
		out = append(out, it)
	}
	return out
}

// isFolder reports the hdi_isfolder=true metadata of a directory blob.
func isFolder(md map[string]*string) bool {
	for k, v := range md {
		if strings.EqualFold(k, "hdi_isfolder") && v != nil && strings.EqualFold(*v, "true") {
			return true
		}
	}
	return false
}

// listLevel lists one level under prefix (delimiter "/"), calling fn
// with each page's blobs and blob prefixes (full names, prefixes ending in
// '/') until fn returns false or an error.
func (b *bucket) listLevel(ctx context.Context, prefix string, fn func(blobs []*container.BlobItem, dirs []string) (bool, error)) error {
	opts := &container.ListBlobsHierarchyOptions{MaxResults: ptr(b.s.pageSize), Include: container.ListBlobsInclude{Metadata: true}}
	if prefix != "" {
		opts.Prefix = ptr(prefix)
	}
	pager := b.cc.NewListBlobsHierarchyPager("/", opts)
	for pager.More() {
		if err := ctx.Err(); err != nil {
			return err
		}
		resp, err := pager.NextPage(ctx)
		if err != nil {
			return wrap("list blobs", b.name+"/"+prefix, err)
		}
		if resp.Segment == nil {
			continue
		}
		dirs := make([]string, 0, len(resp.Segment.BlobPrefixes))
		for _, p := range resp.Segment.BlobPrefixes {
			if p.Name != nil {
				dirs = append(dirs, *p.Name)
			}
		}
		more, err := fn(files(resp.Segment.BlobItems), dirs)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// containers returns the account's container names whose name starts with
// prefix, sorted as the tree orders them: by name+"/" (so "a-b" comes
// before "a", whose paths "a/…" sort after "a-b/…"). Only the names are
// held, never a container's blobs.
func (s *Store) containers(ctx context.Context, prefix string) ([]string, error) {
	opts := &service.ListContainersOptions{MaxResults: ptr(s.pageSize)}
	if prefix != "" {
		opts.Prefix = ptr(prefix)
	}
	pager := s.svc.NewListContainersPager(opts)
	var names []string
	for pager.More() {
		resp, err := pager.NextPage(ctx)
		if err != nil {
			return nil, wrap("list containers", "", err)
		}
		for _, c := range resp.ContainerItems {
			if c.Name != nil {
				names = append(names, *c.Name)
			}
		}
	}
	sort.Slice(names, func(i, j int) bool { return names[i]+"/" < names[j]+"/" })
	return names, nil
}

// commonPrefix returns the longest common prefix of a and b, cut back to a
// whole UTF-8 character. Every key k with a ≤ k < b starts with it, so a
// listing of [a, b) may use it as its prefix.
func commonPrefix(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	for n > 0 && n < len(a) && !utf8.RuneStart(a[n]) {
		n--
	}
	return a[:n]
}

// startBelow returns a name at or below every name ≥ start that is valid
// UTF-8 (blob names are), dropping start's last character so that an
// inclusive or exclusive start on the service's side both keep start
// itself. "" means from the beginning.
func startBelow(start string) string {
	for i := 0; i < len(start); {
		r, n := utf8.DecodeRuneInString(start[i:])
		if r == utf8.RuneError && n <= 1 {
			return start[:i]
		}
		i += n
	}
	_, n := utf8.DecodeLastRuneInString(start)
	return start[:len(start)-n]
}

// blobProps reads the properties Get Properties returned.
func blobProps(r blob.GetPropertiesResponse) props {
	var p props
	if r.ContentLength != nil {
		p.size = *r.ContentLength
	}
	p.md5 = r.ContentMD5
	if r.ETag != nil {
		p.etag = strings.Trim(string(*r.ETag), `"`)
	}
	if r.LastModified != nil {
		p.mtime = *r.LastModified
	}
	if r.AccessTier != nil {
		p.tier = *r.AccessTier
	}
	if r.ArchiveStatus != nil {
		p.archive = *r.ArchiveStatus
	}
	return p
}
