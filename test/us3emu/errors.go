package us3emu

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// RetCodes in error bodies. -30010 and -148654 are UCloud's; the rest are
// the emulator's own (UCloud documents no codes for these cases).
const (
	retInternal         = -30000
	retNoAuthorization  = -30002
	retBadSignature     = -30003
	retExpired          = -30004
	retInvalidArgument  = -30006
	retMD5Mismatch      = -30007
	retUploadNotExist   = -30008
	retInvalidParts     = -30009
	retBucketNotExist   = -30010
	retServiceBusy      = -30011
	retMethodNotAllowed = -30012
	retRangeInvalid     = -30013
	retUploadBusy       = -30014
	retFileNotExist     = -148654
)

// apiError is an error answered to the client as JSON.
type apiError struct {
	Status int
	Code   int
	Msg    string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %d %s", e.Status, e.Code, e.Msg)
}

func errf(status, code int, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Msg: fmt.Sprintf(format, args...)}
}

func errInternal(err error) *apiError {
	return errf(http.StatusInternalServerError, retInternal, "internal error: %v", err)
}

func errNoFile() *apiError {
	return errf(http.StatusNotFound, retFileNotExist, "file not exist")
}

func errNoBucket(host string) *apiError {
	return errf(http.StatusNotFound, retBucketNotExist, "bucket not exist (host %q)", host)
}

func errNoUpload() *apiError {
	return errf(http.StatusNotFound, retUploadNotExist, "upload id not exist")
}

func errBadArg(format string, args ...any) *apiError {
	return errf(http.StatusBadRequest, retInvalidArgument, format, args...)
}

// errorBody is the UCloud error shape.
type errorBody struct {
	RetCode int    `json:"RetCode"`
	ErrMsg  string `json:"ErrMsg"`
}

// writeError answers e as JSON with an explicit Content-Length.
func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.Status, errorBody{RetCode: e.Code, ErrMsg: e.Msg})
}

// writeJSON answers v as JSON with an explicit Content-Length.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"RetCode":-30000,"ErrMsg":"encode response"}`)
		status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeEmpty answers status with an empty body.
func writeEmpty(w http.ResponseWriter, status int) {
	if status != http.StatusNoContent {
		w.Header().Set("Content-Length", "0")
	}
	w.WriteHeader(status)
}

// newID returns a random UUID-shaped identifier.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// discardBody drains up to limit bytes of an unread request body so the
// client sees the response rather than a reset while it is still sending.
func discardBody(r *http.Request, limit int64) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, limit))
	}
}
