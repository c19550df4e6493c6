package fetch

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Submitter posts signed fetch requests to a master, as an application
// would. It is safe for concurrent use.
type Submitter struct {
	Master          string // the master's base URL
	Public, Private string // a key pair of the job
	HTTP            *http.Client
	Date            func() time.Time // sets the Date header (default time.Now); nil Date header when it returns zero
}

// Post signs and sends req with a Content-MD5 header, so that the signature
// covers the body (jobs that reject replays require it), and a fresh Date
// (each call signs anew). A refusal is not an error: the answer carries
// it (RetCode, ErrMsg) with the HTTP status; err is for transport problems
// and answers that are not the contract's JSON.
func (s *Submitter) Post(ctx context.Context, req Request) (Response, int, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return Response{}, 0, fmt.Errorf("encode fetch request: %w", err)
	}
	var out Response
	status, err := s.do(ctx, http.MethodPost, "/fetch/", body, &out)
	return out, status, err
}

// Status asks GET /fetch/{id}.
func (s *Submitter) Status(ctx context.Context, id string) (Status, int, error) {
	var out Status
	status, err := s.do(ctx, http.MethodGet, "/fetch/"+id, nil, &out)
	return out, status, err
}

// do sends one signed request and decodes the JSON answer into out.
func (s *Submitter) do(ctx context.Context, method, path string, body []byte, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(s.Master, "/")+path, rd)
	if err != nil {
		return 0, fmt.Errorf("build fetch request: %w", err)
	}
	if body != nil {
		sum := md5.Sum(body)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	}
	now := time.Now
	if s.Date != nil {
		now = s.Date
	}
	if d := now(); !d.IsZero() {
		r.Header.Set("Date", d.UTC().Format(http.TimeFormat))
	}
	SignRequest(r, s.Public, s.Private)
	hc := s.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(r)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: answer %s is not JSON: %.200s", method, path, resp.Status, b)
	}
	return resp.StatusCode, nil
}
