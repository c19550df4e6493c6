package fetch

import (
	"encoding/json"
	"net/http"
	"time"
)

// Request is the body of POST /fetch/.
type Request struct {
	URL                string `json:"Url"`
	Bucket             string `json:"Bucket"`
	Key                string `json:"Key"`
	JobID              string `json:"JobId"`
	SuccessCallbackURL string `json:"SuccessCallbackUrl,omitempty"`
	FailureCallbackURL string `json:"FailureCallbackUrl,omitempty"`
}

// Response is every answer of POST /fetch/: RetCode 0 with a TaskId, or a
// non-zero RetCode with a readable ErrMsg and no TaskId.
type Response struct {
	RetCode int    `json:"RetCode"`
	ErrMsg  string `json:"ErrMsg"`
	TaskID  string `json:"TaskId,omitempty"`
}

// RetCodes of refusals. The HTTP status of each is given beside it.
const (
	RetOK              = 0
	RetBadAuth         = 10001 // 401: Authorization missing or malformed
	RetUnknownKey      = 10002 // 403: no job has the public key
	RetBadSignature    = 10003 // 403: the signature matches no job that has the key
	RetStaleDate       = 10004 // 403: the job rejects replays; Date missing or off by more than ReplayWindow
	RetReplayed        = 10005 // 403: the job rejects replays; the signature was used before
	RetMalformed       = 10010 // 400: body is not one JSON object of strings
	RetMissingField    = 10011 // 400: Url, Bucket, Key or JobId missing
	RetBadField        = 10012 // 400: a field is invalid (Url not http(s), Content-MD5 mismatch, …)
	RetUnknownJob      = 10020 // 404: the JobId is not a job of the (valid) signing key
	RetBucketForbidden = 10021 // 403: the job does not allow the bucket
	RetURLRefused      = 10022 // 403: the URL policy refuses the target
	RetTooLarge        = 10030 // 413: body larger than the limit
	RetQueueFull       = 10040 // 429: too many unfinished tasks
	RetUnknownTask     = 10050 // 404: GET of a TaskId that is not a task of the signing key's jobs
	RetMethod          = 10060 // 405: method not allowed on the path
	RetInternal        = 10090 // 500: Ferry's own failure
)

// SuccessCallback is the body POSTed to SuccessCallbackUrl.
type SuccessCallback struct {
	Code   int    `json:"Code"` // always 0
	TaskID string `json:"TaskId"`
	ETag   string `json:"ETag"`
	Key    string `json:"Key"`
	SHA1   string `json:"SHA1"` // lowercase hex of the stored bytes
	Size   int64  `json:"Size"`
}

// FailureCallback is the body POSTed to FailureCallbackUrl.
type FailureCallback struct {
	Code     int    `json:"Code"` // always 1
	TaskID   string `json:"TaskId"`
	Message  string `json:"Message"`
	Resource string `json:"Resource"` // the task's Url as posted
}

// CallbackStatus is the callback part of a task status.
type CallbackStatus struct {
	URL       string     `json:"Url,omitempty"`
	State     string     `json:"State"` // none, pending, delivered, failed
	Attempts  int        `json:"Attempts"`
	LastError string     `json:"LastError,omitempty"`
	Next      *time.Time `json:"NextAttempt,omitempty"`
}

// Status answers GET /fetch/{TaskId}: the task's state and, once done, the
// fields of the success callback.
type Status struct {
	RetCode   int            `json:"RetCode"`
	ErrMsg    string         `json:"ErrMsg"`
	TaskID    string         `json:"TaskId"`
	JobID     string         `json:"JobId"`
	URL       string         `json:"Url"`
	Bucket    string         `json:"Bucket"`
	Key       string         `json:"Key"`
	State     string         `json:"State"` // pending, leased, running, done, failed
	Attempts  int            `json:"Attempts"`
	LastError string         `json:"LastError,omitempty"`
	ETag      string         `json:"ETag,omitempty"`
	SHA1      string         `json:"SHA1,omitempty"`
	Size      int64          `json:"Size"`
	Callback  CallbackStatus `json:"Callback"`
	CreatedAt time.Time      `json:"CreatedAt"`
	UpdatedAt time.Time      `json:"UpdatedAt"`
	Finished  *time.Time     `json:"FinishedAt,omitempty"`
}

// writeJSON answers v with status as "application/json; charset=utf-8".
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"RetCode":10090,"ErrMsg":"encode answer"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// refuse answers a refusal: non-zero code, message, no TaskId.
func refuse(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, Response{RetCode: code, ErrMsg: msg})
}
