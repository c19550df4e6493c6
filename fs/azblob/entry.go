package azblob

import (
	"encoding/hex"
	iofs "io/fs"
	"strings"
	"time"

	"github.com/ferry-project/ferry/fs"
)

// File and directory modes of the read-only tree.
const (
	fileMode = 0o444
	dirMode  = iofs.ModeDir | 0o555
)

// archiveTier is the access tier whose blobs cannot be read.
const archiveTier = "Archive"

// tierMark separates the ETag from the tier in the Version of an archived
// blob. ETags never contain '#'.
const tierMark = "#tier="

// props is what a listing or Get Properties says about a blob.
type props struct {
	size    int64
	md5     []byte // Content-MD5 property; often absent (committed block lists)
	etag    string // unquoted
	mtime   time.Time
	tier    string // access tier ("Hot", "Cool", "Cold", "Archive"), "" if unknown
	archive string // archive status ("rehydrate-pending-to-hot", …), "" if none
}

// fileEntry builds the entry of the blob at the prefix-relative key rel.
//
// Version is the blob's ETag, the change token every read is pinned to;
// for a blob in the Archive tier it is "ETAG#tier=Archive" (with
// ";STATUS" while a rehydration is pending), so the tier is part of what a
// catalog records and a rehydrated blob is a new version (see Archived).
// ETag is the hex Content-MD5 when the blob has one, else empty: Azure's
// HTTP ETag is an opaque token, not a checksum, and blobs committed from
// block lists usually carry no MD5, so none is ever assumed.
func fileEntry(rel string, p props) fs.Entry {
	e := fs.Entry{
		Path:    fs.KeyToPath(rel),
		Size:    p.size,
		ModTime: p.mtime,
		Mode:    fileMode,
		Version: strings.Trim(p.etag, `"`),
	}
	if len(p.md5) == 16 {
		e.ETag = hex.EncodeToString(p.md5)
	}
	if e.Version == "" {
		e.Version = p.mtime.UTC().Format(time.RFC3339Nano)
	}
	if strings.EqualFold(p.tier, archiveTier) {
		e.Archive = fs.Archive{Class: archiveTier, Restoring: strings.HasPrefix(p.archive, "rehydrate-pending")}
		e.Version += tierMark + archiveTier
		if p.archive != "" {
			e.Version += ";" + p.archive
		}
	}
	if e.Path != rel {
		e.Key = rel
	}
	return e
}

// Archived reports whether e, an entry this driver described (Walk,
// ReadDir or Stat), is a blob in the Archive access tier, which cannot be
// read until it is rehydrated, and returns its tier ("Archive") and, while
// a rehydration is pending, the archive status
// ("rehydrate-pending-to-hot"). Opening such an entry fails with an error
// wrapping ErrArchived. It makes no request.
func Archived(e fs.Entry) (tier, status string, ok bool) {
	_, rest, ok := strings.Cut(e.Version, tierMark)
	if !ok {
		return "", "", false
	}
	tier, status, _ = strings.Cut(rest, ";")
	return tier, status, true
}

// ArchiveClass is Archived as a method of the Store, for an engine that
// asks any Tree (by type assertion) whether an entry is archived: class is
// the access tier, ok reports a blob that cannot be read as it is.
func (s *Store) ArchiveClass(e fs.Entry) (class string, ok bool) {
	tier, _, ok := Archived(e)
	return tier, ok
}

// etagOf returns the ETag of an entry's Version (without the tier).
func etagOf(e fs.Entry) string {
	v, _, _ := strings.Cut(e.Version, tierMark)
	return v
}

// dirEntry is the entry of a directory at path p.
func dirEntry(p string) fs.Entry { return fs.Entry{Path: p, Mode: dirMode} }
