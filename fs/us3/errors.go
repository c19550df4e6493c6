package us3

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/ferry-project/ferry/fs"
)

// retCodeNoBucket is US3's RetCode for "bucket not exist".
const retCodeNoBucket = -30010

// Error is a failed US3 call. It carries what the service said (HTTP
// status, RetCode, ErrMsg) or the transport error, plus the operation and
// object key; never credentials or signatures.
//
// errors.Is(err, fs.ErrNotExist) holds for a 404 about an object or upload
// (not for a missing bucket), errors.Is(err, fs.ErrPermission) for 401/403.
type Error struct {
	Op      string // "put object", "upload part 3", …
	Key     string // full object key ("" for bucket-level calls)
	Status  int    // HTTP status; 0 when no response arrived
	RetCode int    // US3 RetCode from the JSON body, 0 when absent
	ErrMsg  string // US3 ErrMsg from the JSON body
	Err     error  // transport or decoding error when Status is 0 or the body was bad
}

// Error describes the failure.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("us3 ")
	b.WriteString(e.Op)
	if e.Key != "" {
		fmt.Fprintf(&b, " %q", e.Key)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
		if e.RetCode != 0 {
			fmt.Fprintf(&b, " RetCode %d", e.RetCode)
		}
		if e.ErrMsg != "" {
			b.WriteString(": " + e.ErrMsg)
		}
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the transport or decoding error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is maps HTTP statuses onto the fs sentinel errors.
func (e *Error) Is(target error) bool {
	switch target {
	case fs.ErrNotExist:
		return e.Status == http.StatusNotFound && e.RetCode != retCodeNoBucket
	case fs.ErrPermission:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	}
	return false
}

// permanent marks a locally detected error that retrying cannot fix (a
// bad argument, a reader shorter than the size given).
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// permanentf returns a permanent error built like fmt.Errorf.
func permanentf(format string, args ...any) error {
	return permanent{fmt.Errorf(format, args...)}
}

// IsPermanent reports whether err will fail again however often it is
// retried: 4xx answers (bad request, access denied, not found incl. a
// missing bucket, part size or ETag mismatch at finish) other than 408 and
// 429, and bad arguments detected locally. 5xx, 408, 429, connection
// resets, timeouts, truncated bodies and cancellations are not permanent.
func (s *Store) IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var p permanent
	if errors.As(err, &p) {
		return true
	}
	var e *Error
	if errors.As(err, &e) && e.Status != 0 {
		if e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests {
			return false
		}
		return e.Status >= 400 && e.Status < 500
	}
	return false
}

// maxErrBody bounds how much of an error reply is read.
const maxErrBody = 64 << 10

// respError builds the Error for a non-2xx response and closes its body.
func respError(op, key string, resp *http.Response) error {
	defer resp.Body.Close()
	e := &Error{Op: op, Key: key, Status: resp.StatusCode}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrBody))
	var j struct {
		RetCode int
		ErrMsg  string
	}
	if len(body) > 0 && json.Unmarshal(body, &j) == nil {
		e.RetCode, e.ErrMsg = j.RetCode, j.ErrMsg
	} else {
		e.ErrMsg = http.StatusText(resp.StatusCode)
	}
	return e
}
