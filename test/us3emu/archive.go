package us3emu

import (
	"net/http"
	"time"
)

// DefaultRestoreDelay is how long a restore ("thaw") of an ARCHIVE object
// takes unless Options.RestoreDelay says otherwise. US3 takes minutes to
// hours; tests want seconds.
const DefaultRestoreDelay = 2 * time.Second

// retArchived is the RetCode of a GET of an ARCHIVE object that has not
// been thawed. US3 documents that archived files must be restored before
// they are downloaded; the exact code is this emulator's choice, the
// status (403) and message are what clients act on.
const retArchived = -30019

// Archive mode. An object in the ARCHIVE class cannot be read: GET answers
// 403 until a restore (PUT /key?restore) was requested and RestoreDelay
// has passed. HEAD says where it stands in X-Ufile-Restore, as S3's
// x-amz-restore does: `ongoing-request="true"` while it thaws,
// `ongoing-request="false", expiry-date="…"` once it can be read (for a
// day). Switching the class (PUT ?storageClass) forgets a restore.

// frozen refuses to serve an ARCHIVE object that is not thawed.
func (s *Server) frozen(o object) *apiError {
	if o.StorageClass != "ARCHIVE" || (!o.ThawReady.IsZero() && !s.now().Before(o.ThawReady)) {
		return nil
	}
	return errf(http.StatusForbidden, retArchived, "archived file is not restored: restore it first (PUT ?restore)")
}

// setRestoreHeader sets X-Ufile-Restore on a HEAD of an ARCHIVE object
// whose restore was requested.
func (s *Server) setRestoreHeader(h http.Header, o object) {
	if o.StorageClass != "ARCHIVE" || o.ThawReady.IsZero() {
		return
	}
	if s.now().Before(o.ThawReady) {
		h.Set("X-Ufile-Restore", `ongoing-request="true"`)
		return
	}
	h.Set("X-Ufile-Restore", `ongoing-request="false", expiry-date="`+o.ThawReady.Add(24*time.Hour).UTC().Format(http.TimeFormat)+`"`)
}

// restore accepts a thaw request for an existing object (PUT /key?restore):
// an ARCHIVE object becomes readable RestoreDelay later; asking again
// while it thaws changes nothing. Other classes are readable already.
func (s *Server) restore(w http.ResponseWriter, r *http.Request, c *call) *apiError {
	if e := c.bucket.update(c.key, func(o *object) *apiError {
		if o.StorageClass == "ARCHIVE" && o.ThawReady.IsZero() {
			o.ThawReady = s.now().Add(s.opts.RestoreDelay)
		}
		return nil
	}); e != nil {
		return e
	}
	writeEmpty(w, http.StatusOK)
	return nil
}
