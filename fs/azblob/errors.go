package azblob

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/ferry-project/ferry/fs"
)

// ErrArchived reports a blob in the Archive access tier: its bytes cannot be
// read until it is rehydrated to an online tier (Set Blob Tier to Hot, Cool
// or Cold; Azure takes hours). Open, OpenEntry and reads of such a blob
// fail with an error wrapping it; IsPermanent reports it permanent.
// It wraps fs.ErrArchived.
var ErrArchived = fmt.Errorf("blob is in the Archive access tier and cannot be read until it is rehydrated: %w", fs.ErrArchived)

// Error is a failed Azure Blob call: the operation, the container/blob it
// was about, and what the service said (HTTP status and error code) or the
// transport error (its URL without query). It never holds credentials,
// signatures or the service's raw reply.
//
// errors.Is maps it onto the fs sentinels: 404 → fs.ErrNotExist, 401/403 →
// fs.ErrPermission, ConditionNotMet (a read pinned with If-Match to a
// replaced blob) → fs.ErrChanged, BlobArchived → ErrArchived.
type Error struct {
	Op     string // "get properties", "stage block 3", …
	Name   string // "container/blob", or "container", or "" for the account
	Status int    // HTTP status; 0 when no response arrived
	Code   string // the service's x-ms-error-code ("BlobNotFound", …)
	Err    error  // transport or local error when Status is 0
}

// Error describes the failure on one line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("azblob ")
	b.WriteString(e.Op)
	if e.Name != "" {
		fmt.Fprintf(&b, " %q", e.Name)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
		if e.Code != "" {
			b.WriteString(" " + e.Code)
		}
		if e.Code == "BlobArchived" {
			b.WriteString(" (" + ErrArchived.Error() + ")")
		}
	}
	if e.Err != nil {
		b.WriteString(": " + strings.ReplaceAll(e.Err.Error(), "\n", " "))
	}
	return sigParam.ReplaceAllString(b.String(), "${1}REDACTED")
}

// sigParam matches a SAS signature in a message, should an error below
// the transport ever quote a full URL: a second line of defence behind
// redactErr.
var sigParam = regexp.MustCompile(`(?i)([?&]sig=)[^&\s"']*`)

// Unwrap returns the transport or local error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is maps statuses and codes onto the fs sentinels and ErrArchived.
func (e *Error) Is(target error) bool {
	switch target {
	case fs.ErrNotExist:
		return e.Status == http.StatusNotFound
	case fs.ErrPermission:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	case fs.ErrChanged:
		// Only a failed If-Match: other 412s are about leases.
		return e.Code == "ConditionNotMet" || (e.Status == http.StatusPreconditionFailed && e.Code == "")
	case ErrArchived, fs.ErrArchived:
		return e.Code == "BlobArchived"
	}
	return false
}

// wrap turns an SDK error into an *Error about name. Service answers keep
// their status and code only (azcore's message would quote the reply).
func wrap(op, name string, err error) error {
	if err == nil {
		return nil
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		e := &Error{Op: op, Name: name, Status: re.StatusCode, Code: re.ErrorCode}
		if e.Code == "InvalidOperation" && strings.Contains(strings.ToLower(re.Error()), "contentmd5 doesn't match") {
			e.Code = "Md5Mismatch" // Azurite's form of Azure's Md5Mismatch
		}
		return e
	}
	return &Error{Op: op, Name: name, Err: redactErr(err)}
}

// permanent marks a locally detected error that retrying cannot fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// permanentf returns a permanent error built like fmt.Errorf.
func permanentf(format string, args ...any) error {
	return permanent{fmt.Errorf(format, args...)}
}

// transientCodes are service error codes worth retrying whatever their
// status: throttling, timeouts, and a Content-MD5 the bytes did not match
// (damaged on the way; the engine sends the part again).
var transientCodes = map[string]bool{
	"ServerBusy": true, "OperationTimedOut": true, "InternalError": true, "Md5Mismatch": true,
	"Crc64Mismatch": true, "IncompleteBody": true,
}

// IsPermanent reports whether err will fail again however often it is
// retried: 4xx answers (authentication, not found, bad request, a changed
// source, an archived blob, a block list that does not match) other than
// 408, 429 and the transient codes above, and bad arguments detected
// locally. 5xx, throttling, connection resets, timeouts, stalls and
// context errors are not permanent.
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
		if transientCodes[e.Code] {
			return false
		}
		if e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests {
			return false
		}
		return e.Status >= 400 && e.Status < 500
	}
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) || errors.Is(err, ErrArchived)
}
