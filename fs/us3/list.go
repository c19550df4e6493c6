package us3

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"
)

// listPage is how many keys one listing request asks for.
const listPage = 1000

// listing is the ListObjects reply. Size and MaxKeys are JSON strings.
type listing struct {
	IsTruncated bool
	NextMarker  string
	Contents    []object
	// CommonPrefixes are the "directories" when a delimiter is given.
	CommonPrefixes []struct{ Prefix string }
}

// object is one ListObjects entry.
type object struct {
	Key          string
	ETag         string
	Size         string
	LastModified int64
	StorageClass string
}

func (o object) size() int64 {
	n, _ := strconv.ParseInt(o.Size, 10, 64)
	return n
}

func (o object) modTime() time.Time {
	if o.LastModified == 0 {
		return time.Time{}
	}
	return time.Unix(o.LastModified, 0)
}

// listObjects fetches one page of keys starting with prefix and greater
// than marker (GET /?listobjects, signed with key "").
func (s *Store) listObjects(ctx context.Context, prefix, marker, delimiter string, max int) (listing, error) {
	q := url.Values{}
	q.Set("prefix", prefix)
	q.Set("marker", marker)
	q.Set("delimiter", delimiter)
	q.Set("max-keys", strconv.Itoa(max))
	var l listing
	_, err := s.doJSON(ctx, call{
		op: "list objects", method: http.MethodGet, key: "",
		query: "listobjects&" + q.Encode(), size: -1,
	}, &l)
	if err != nil {
		return listing{}, err
	}
	return l, nil
}

// nextMarker returns the marker for the page after l, or "" with false
// when l was the last page.
func nextMarker(l listing) (string, bool) {
	if !l.IsTruncated {
		return "", false
	}
	if l.NextMarker != "" {
		return l.NextMarker, true
	}
	// A truncated page without NextMarker: continue after its last name.
	last := ""
	if n := len(l.Contents); n > 0 {
		last = l.Contents[n-1].Key
	}
	if n := len(l.CommonPrefixes); n > 0 && l.CommonPrefixes[n-1].Prefix > last {
		last = l.CommonPrefixes[n-1].Prefix
	}
	return last, last != ""
}

// markerBefore returns a listing marker M < start such that hardly any key
// lies in (M, start): listing "keys > M" then starts at start, give or take
// keys the caller filters out. For start = T+"\x00" it is exactly T; for a
// last character r it is T + (r-1) + U+10FFFF (the largest character), so
// only keys beginning with T+(r-1)+U+10FFFF are listed needlessly; for a
// last byte that is not valid UTF-8 it is T + (byte-1).
func markerBefore(start string) string {
	if start == "" {
		return ""
	}
	last := start[len(start)-1]
	if last == 0 {
		return start[:len(start)-1]
	}
	r, size := utf8.DecodeLastRuneInString(start)
	if r == utf8.RuneError && size <= 1 {
		return start[:len(start)-1] + string([]byte{last - 1})
	}
	t := start[:len(start)-size]
	prev := r - 1
	if prev >= 0xD800 && prev <= 0xDFFF {
		prev = 0xD7FF // skip the surrogates, which UTF-8 cannot encode
	}
	return t + string(prev) + string(utf8.MaxRune)
}
