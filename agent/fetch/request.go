package fetch

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/ferry-project/ferry/fs"
)

// refusal is how a request is refused: HTTP status, RetCode and ErrMsg.
// The zero refusal means the request passed.
type refusal struct {
	status, code int
	msg          string
}

// parseRequest decodes a POST /fetch/ body: one JSON object whose known
// fields are strings, with Url, Bucket, Key and JobId not blank. It refuses
// 400 RetMalformed or RetMissingField; it knows nothing of jobs.
func parseRequest(body []byte) (Request, refusal) {
	var req Request
	if err := json.Unmarshal(body, &req); err != nil {
		return Request{}, refusal{http.StatusBadRequest, RetMalformed, "malformed JSON: " + err.Error()}
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"Url", req.URL}, {"Bucket", req.Bucket}, {"Key", req.Key}, {"JobId", req.JobID}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return Request{}, refusal{http.StatusBadRequest, RetMissingField, "missing field(s): " + strings.Join(missing, ", ")}
	}
	return req, refusal{}
}

// validate checks a parsed request against its job: the Key's length, the
// Bucket, the Url under the job's URL policy and the callback URLs under
// its callback policy (literal addresses and local-host names; names are
// judged again when the callback is dialed).
func validate(drivers fs.Registry, req Request, job Job) refusal {
	if len(req.Key) > maxKeyLen {
		return refusal{http.StatusBadRequest, RetBadField, fmt.Sprintf("Key longer than %d bytes", maxKeyLen)}
	}
	if !job.BucketAllowed(drivers, req.Bucket) {
		return refusal{http.StatusForbidden, RetBucketForbidden, fmt.Sprintf("bucket %q is not allowed for this job", req.Bucket)}
	}
	if _, err := (Policy{AllowPrivate: job.AllowPrivateURLs}).CheckURL(req.URL); err != nil {
		if errors.Is(err, ErrRefused) {
			return refusal{http.StatusForbidden, RetURLRefused, err.Error()}
		}
		return refusal{http.StatusBadRequest, RetBadField, err.Error()}
	}
	cbPolicy := Policy{AllowPrivate: job.AllowPrivateCallbacks}
	for _, cb := range []struct{ name, v string }{{"SuccessCallbackUrl", req.SuccessCallbackURL}, {"FailureCallbackUrl", req.FailureCallbackURL}} {
		if cb.v == "" {
			continue
		}
		if _, err := cbPolicy.CheckURL(cb.v); err != nil {
			if errors.Is(err, ErrRefused) {
				return refusal{http.StatusForbidden, RetURLRefused, cb.name + ": " + err.Error()}
			}
			return refusal{http.StatusBadRequest, RetBadField, cb.name + " must be an absolute http(s) URL"}
		}
	}
	return refusal{}
}
