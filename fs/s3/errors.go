package s3

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/smithy-go"

	"github.com/ferry-project/ferry/fs"
)

// httpStatus returns the HTTP status of a service error (the SDK's
// *awshttp.ResponseError or a wire *responseError), or 0.
func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// apiCode returns the S3 error code ("NoSuchKey", "SlowDown", …), or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// wrap annotates err with the operation and the bucket key (never
// credentials: SDK errors carry status, code, message and request ID only).
// A 404 also wraps fs.ErrNotExist, a 403 fs.ErrPermission, a 412 (a read
// pinned with If-Match to a version that was replaced) fs.ErrChanged,
// keeping the SDK error in the chain for IsPermanent.
func (s *Store) wrap(op, fullKey string, err error) error {
	switch status := httpStatus(err); {
	case status == 412 || apiCode(err) == "PreconditionFailed":
		return fmt.Errorf("%s %s/%s: %w: %w", op, s.bucket, fullKey, fs.ErrChanged, err)
	case status == 404:
		return fmt.Errorf("%s %s/%s: %w: %w", op, s.bucket, fullKey, fs.ErrNotExist, err)
	case status == 403:
		return fmt.Errorf("%s %s/%s: %w: %w", op, s.bucket, fullKey, fs.ErrPermission, err)
	default:
		return fmt.Errorf("%s %s/%s: %w", op, s.bucket, fullKey, err)
	}
}

// permanentCodes are S3 error codes that fail again however often retried.
var permanentCodes = map[string]bool{
	"AccessDenied": true, "InvalidAccessKeyId": true, "SignatureDoesNotMatch": true,
	"AccountProblem": true, "AllAccessDisabled": true, "InvalidSecurity": true, "ExpiredToken": true,
	"NoSuchKey": true, "NoSuchBucket": true, "NoSuchUpload": true, "NotFound": true,
	"InvalidArgument": true, "InvalidRequest": true, "InvalidBucketName": true, "KeyTooLongError": true,
	"EntityTooLarge": true, "EntityTooSmall": true, "InvalidPart": true, "InvalidPartOrder": true,
	"InvalidRange": true, "PreconditionFailed": true, "MethodNotAllowed": true, "NotImplemented": true,
	"MalformedXML": true, "MetadataTooLarge": true, "InvalidObjectState": true, "XMinioInvalidObjectName": true,
}

// transientCodes are S3 error codes worth retrying whatever their status.
var transientCodes = map[string]bool{
	"SlowDown": true, "Throttling": true, "ThrottlingException": true, "RequestLimitExceeded": true,
	"TooManyRequests": true, "RequestThrottled": true, "RequestTimeout": true, "RequestTimeTooSkewed": true,
	"InternalError": true, "ServiceUnavailable": true, "BadDigest": true, "IncompleteBody": true,
	"OperationAborted": true, "XMinioServerNotInitialized": true, "XMinioReadQuorum": true, "XMinioWriteQuorum": true,
}

// IsPermanent reports whether err will fail again however often retried:
// access denied (403), not found (404: NoSuchKey, NoSuchBucket,
// NoSuchUpload), bad requests (400 InvalidArgument, EntityTooLarge,
// InvalidPart, …), and a source object that changed while being read
// (PreconditionFailed). Server errors (5xx), throttling (SlowDown, 429),
// request timeouts, clock skew, connection resets, timeouts and context
// errors are not permanent: the engine retries them with backoff (or stops
// on its own context). Unknown errors are treated as transient.
func (s *Store) IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	code := apiCode(err)
	if transientCodes[code] {
		return false
	}
	if permanentCodes[code] {
		return true
	}
	switch status := httpStatus(err); {
	case status == 408 || status == 429 || status >= 500:
		return false
	case status >= 400:
		return true
	case status != 0:
		return false
	}
	// No HTTP answer: network errors (resets, refused, timeouts) and
	// anything unknown are transient; only Ferry's own sentinels are not.
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission)
}
