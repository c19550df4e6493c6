package us3

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/ferry-project/ferry/fs"
)

// archiveClass is US3's archive storage class: its objects cannot be read
// until they are restored ("thawed").
const archiveClass = "ARCHIVE"

var _ fs.Restorer = (*Store)(nil)

// archiveOf reads what a HEAD says of an object's class and restore state:
// X-Ufile-Storage-Class, and X-Ufile-Restore, which US3 (like S3's
// x-amz-restore) sets to `ongoing-request="true"` while a restore runs and
// `ongoing-request="false", expiry-date="…"` once the restored copy can
// be read. An ARCHIVE object without a finished restore is archived.
func archiveOf(h http.Header) fs.Archive {
	if h.Get("X-Ufile-Storage-Class") != archiveClass {
		return fs.Archive{}
	}
	switch r := h.Get("X-Ufile-Restore"); {
	case strings.Contains(r, `ongoing-request="false"`):
		return fs.Archive{}
	case strings.Contains(r, `ongoing-request="true"`):
		return fs.Archive{Class: archiveClass, Restoring: true}
	}
	return fs.Archive{Class: archiveClass}
}

// archiveState HEADs an object the listing named ARCHIVE (the listing
// does not say whether it was restored).
func (s *Store) archiveState(ctx context.Context, full string) (fs.Archive, error) {
	resp, err := s.head(ctx, full)
	if err != nil {
		return fs.Archive{}, fmt.Errorf("head archived object: %w", err)
	}
	return archiveOf(resp.Header), nil
}

// Restore asks US3 to thaw an ARCHIVE object (fs.Restorer): PUT
// /key?restore. US3 chooses how long the thawed copy stays readable, so
// o.Days and o.Tier are not sent. Asking again while it thaws is no error.
func (s *Store) Restore(ctx context.Context, e fs.Entry, o fs.RestoreOptions) error {
	resp, err := s.do(ctx, call{op: "restore object", method: http.MethodPut, key: s.fullKey(e.ObjectKey()), query: "restore", size: -1})
	if err != nil {
		return fmt.Errorf("restore %s: %w", e.Path, err)
	}
	resp.Body.Close()
	return nil
}
