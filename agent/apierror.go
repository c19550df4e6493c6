package agent

import (
	"errors"
	"fmt"
	"net/http"
)

// APIError is the one error type of the master's API, whatever the
// endpoint (/api/v1/jobs, leases, the fetch job and agent APIs): the HTTP
// status, a short code for programs (ErrorCode of the status, unless the
// master sent its own) and the master's message. It never holds a token:
// the master's messages never quote one. Find it with errors.As, or ask
// IsLeaseLost, IsNotFound.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("master: %s (HTTP %d)", e.Message, e.Status)
}

// ErrorCode is the code of an error answer with status: bad_request,
// unauthorized, forbidden, not_found, method_not_allowed, conflict,
// too_large, unprocessable, too_many_requests, server_error (5xx), or
// "http_" and the status.
func ErrorCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusConflict:
		return "conflict"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusUnprocessableEntity:
		return "unprocessable"
	case http.StatusTooManyRequests:
		return "too_many_requests"
	}
	if status >= 500 {
		return "server_error"
	}
	return fmt.Sprintf("http_%d", status)
}

// hasStatus reports whether err is an *APIError with one of statuses.
func hasStatus(err error, statuses ...int) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, s := range statuses {
		if ae.Status == s {
			return true
		}
	}
	return false
}

// IsLeaseLost reports whether err says a lease (of a range or a fetch
// task) is no longer the agent's (409).
func IsLeaseLost(err error) bool { return hasStatus(err, http.StatusConflict) }

// IsNotFound reports whether err says the master does not know the job,
// task or lease asked for (404).
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// isAuthError reports whether the master refused the token.
func isAuthError(err error) bool {
	return hasStatus(err, http.StatusUnauthorized, http.StatusForbidden)
}
