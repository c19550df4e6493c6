package agent

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ferry-project/ferry/internal/tlsclient"
)

// Client is the one client of a master's API (/api/v1): operators (ferry
// job, ferry job create --type fetch) with the admin token, agents (range
// leases, and the fetch worker through Do) with the cluster token. Every
// error answer becomes an *APIError. It is safe for concurrent use.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// ClientOption configures NewClient.
type ClientOption func(*clientOptions)

type clientOptions struct {
	ca    *x509.CertPool
	conns int
	rt    http.RoundTripper
}

// WithTransport sends the client's requests through rt instead of a
// network transport (WithCA and WithConns then do not apply): the console
// (web) reaches the master's own handler in process this way.
func WithTransport(rt http.RoundTripper) ClientOption {
	return func(o *clientOptions) { o.rt = rt }
}

// WithCA makes the client trust only the certificates of pool for an
// https:// master (tlsclient.LoadCA reads a --ca file); by default it
// trusts the system's pool.
func WithCA(pool *x509.CertPool) ClientOption {
	return func(o *clientOptions) { o.ca = pool }
}

// WithConns keeps up to n idle connections to the master (default 2), for
// a caller with n requests in flight.
func WithConns(n int) ClientOption {
	return func(o *clientOptions) { o.conns = n }
}

// NewClient returns a client for the master at base ("http://host:7070" or
// "https://host:7070"). The token is sent as a bearer token and never
// appears in errors, nor does a password in base.
func NewClient(base, token string, opts ...ClientOption) (*Client, error) {
	var o clientOptions
	for _, opt := range opts {
		opt(&o)
	}
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		shown := "(unparsable)"
		if err == nil {
			shown = u.Redacted()
		}
		return nil, fmt.Errorf("master URL %q: want http://host:port or https://host:port", shown)
	}
	if token == "" {
		return nil, errors.New("no token: pass --token-file or set the token's variable")
	}
	if o.rt != nil {
		return &Client{base: u.String(), token: token, http: &http.Client{Transport: o.rt}}, nil
	}
	t := tlsclient.Transport(o.ca)
	t.ResponseHeaderTimeout = 2 * time.Minute
	if o.conns > 0 {
		t.MaxIdleConnsPerHost = max(o.conns, 2)
	}
	return &Client{base: u.String(), token: token, http: &http.Client{Transport: t}}, nil
}

// do sends one request with an optional JSON body and returns the response
// for a 2xx status; any other status becomes an *APIError.
func (c *Client) do(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reach master: %w", tlsclient.Explain(err))
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	var eb errorBody
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(b, &eb) != nil || eb.Error == "" {
		eb.Error = strings.TrimSpace(string(b))
	}
	if eb.Code == "" {
		eb.Code = ErrorCode(resp.StatusCode)
	}
	return nil, &APIError{Status: resp.StatusCode, Code: eb.Code, Message: eb.Error}
}

// Do sends a request to path (under the master's URL) with in, unless nil,
// as its JSON body, and decodes a JSON answer into out, unless nil or the
// answer is 204. Services mounted on the master (the fetch job and agent
// APIs) use it with their own types; any answer that is not 2xx is an
// *APIError.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.do(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode master answer: %w", err)
	}
	return nil
}

func jobPath(id string, rest ...string) string {
	return "/api/v1/jobs/" + url.PathEscape(id) + strings.Join(rest, "")
}

// CreateJob creates a job and returns it.
func (c *Client) CreateJob(ctx context.Context, spec JobSpec) (JobView, error) {
	var v JobView
	return v, c.Do(ctx, http.MethodPost, "/api/v1/jobs", spec, &v)
}

// Jobs lists every job, of every type.
func (c *Client) Jobs(ctx context.Context) ([]JobView, error) {
	var v []JobView
	return v, c.Do(ctx, http.MethodGet, "/api/v1/jobs", nil, &v)
}

// Job returns one job of any type: a migrate job with its ranges and
// runs, a fetch job with its fetch section.
func (c *Client) Job(ctx context.Context, id string) (JobView, error) {
	var v JobView
	return v, c.Do(ctx, http.MethodGet, jobPath(id), nil, &v)
}

// JobAction runs "pause", "resume" or "cancel" and returns the job. A job
// whose type takes no such action answers 400.
func (c *Client) JobAction(ctx context.Context, id, action string) (JobView, error) {
	var v JobView
	return v, c.Do(ctx, http.MethodPost, jobPath(id, "/", action), nil, &v)
}

// RetryFailed queues a job's failed objects again.
func (c *Client) RetryFailed(ctx context.Context, id string) (RetryView, error) {
	var v RetryView
	return v, c.Do(ctx, http.MethodPost, jobPath(id, "/retry-failed"), nil, &v)
}

// DeleteJob deletes a job of any type.
func (c *Client) DeleteJob(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodDelete, jobPath(id), nil, nil)
}

// Agents lists the agents the master knows.
func (c *Client) Agents(ctx context.Context) ([]AgentView, error) {
	var v []AgentView
	return v, c.Do(ctx, http.MethodGet, "/api/v1/agents", nil, &v)
}

// Failed copies the failed list of a job ("json" or "csv") to w.
func (c *Client) Failed(ctx context.Context, id, format string, w io.Writer) error {
	return c.stream(ctx, jobPath(id, "/failed?format=", url.QueryEscape(format)), w)
}

// FailedAfter copies the failed objects after the path after as JSON to
// w, in path order; a reader that stops early reads one page.
func (c *Client) FailedAfter(ctx context.Context, id, after string, w io.Writer) error {
	return c.stream(ctx, jobPath(id, "/failed?format=json&after=", url.QueryEscape(after)), w)
}

// Report copies a job report ("csv", "md" or "html") to w.
func (c *Client) Report(ctx context.Context, id, format string, w io.Writer) error {
	return c.stream(ctx, jobPath(id, "/report?format=", url.QueryEscape(format)), w)
}

func (c *Client) stream(ctx context.Context, path string, w io.Writer) error {
	resp, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("read master answer: %w", err)
	}
	return nil
}

// Lease asks for a range; ok is false when the master has no work.
func (c *Client) Lease(ctx context.Context, agent string) (l LeaseView, ok bool, err error) {
	resp, err := c.do(ctx, http.MethodPost, "/api/v1/leases", LeaseRequest{Agent: agent})
	if err != nil {
		return l, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNoContent {
		return l, false, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		return l, false, fmt.Errorf("decode lease: %w", err)
	}
	return l, true, nil
}

// SendReport reports on a lease. An error for which IsLeaseLost is true
// means the range is no longer the agent's.
func (c *Client) SendReport(ctx context.Context, leaseID string, r ReportRequest) (ReportReply, error) {
	var v ReportReply
	return v, c.Do(ctx, http.MethodPost, "/api/v1/leases/"+url.PathEscape(leaseID)+"/report", r, &v)
}
