package fetch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/ferry-project/ferry/internal/tlsclient"
)

// Errors of the agent API client.
var (
	// ErrLeaseLost: the master gave the task to someone else (409).
	ErrLeaseLost = errors.New("fetch lease lost")
	// ErrTaskNotFound: the master does not know the task (404).
	ErrTaskNotFound = errors.New("fetch task not found")
)

// Client calls the master's fetch APIs: the agent API (with the cluster
// token) and the job API (with the admin token).
type Client struct {
	// Master is the master's base URL ("http://host:7070" or https://).
	Master string
	// Token is sent as "Authorization: Bearer Token".
	Token string
	// HTTP is the client to use (default http.DefaultClient); for an
	// https master with a private CA, one whose transport trusts it
	// (tlsclient.Transport).
	HTTP *http.Client
}

// Lease asks for up to n tasks for agent.
func (c *Client) Lease(ctx context.Context, agent string, n int) (LeaseReply, error) {
	var reply LeaseReply
	err := c.call(ctx, http.MethodPost, PathLease, LeaseRequest{Agent: agent, Max: n}, &reply)
	return reply, err
}

// Renew marks a task running and extends its lease.
func (c *Client) Renew(ctx context.Context, id, agent string) error {
	return c.call(ctx, http.MethodPost, strings.Replace(pathRenew, "{id}", url.PathEscape(id), 1), AgentRequest{Agent: agent}, nil)
}

// Finish reports a task's outcome.
func (c *Client) Finish(ctx context.Context, id, agent string, r Result) error {
	return c.call(ctx, http.MethodPost, strings.Replace(pathFinish, "{id}", url.PathEscape(id), 1), AgentRequest{
		Agent: agent, OK: r.OK, ETag: r.ETag, SHA1: r.SHA1, Size: r.Size, Error: r.Message, Retry: r.Retry,
	}, nil)
}

// CreateJob creates a fetch job (admin token).
func (c *Client) CreateJob(ctx context.Context, spec JobSpec) (JobView, error) {
	var v JobView
	err := c.call(ctx, http.MethodPost, PathJobs, spec, &v)
	return v, err
}

// Jobs lists the fetch jobs (admin token).
func (c *Client) Jobs(ctx context.Context) ([]JobView, error) {
	var v []JobView
	err := c.call(ctx, http.MethodGet, PathJobs, nil, &v)
	return v, err
}

// Job shows one fetch job (admin token); unknown: ErrTaskNotFound.
func (c *Client) Job(ctx context.Context, id string) (JobView, error) {
	var v JobView
	err := c.call(ctx, http.MethodGet, PathJobs+"/"+url.PathEscape(id), nil, &v)
	return v, err
}

// DeleteJob deletes a fetch job (admin token).
func (c *Client) DeleteJob(ctx context.Context, id string) error {
	return c.call(ctx, http.MethodDelete, PathJobs+"/"+url.PathEscape(id), nil, nil)
}

// call sends in (if not nil) as JSON to path and decodes the answer into out.
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	var rd io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.Master, "/")+path, rd)
	if err != nil {
		return fmt.Errorf("call master: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("call master %s: %w", path, tlsclient.Explain(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("call master %s: read answer: %w", path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		msg := fmt.Sprintf("master answered %s: %s", resp.Status, e.Error)
		switch resp.StatusCode {
		case http.StatusConflict:
			return fmt.Errorf("%s: %w", msg, ErrLeaseLost)
		case http.StatusNotFound:
			return fmt.Errorf("%s: %w", msg, ErrTaskNotFound)
		}
		return errors.New(msg)
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("call master %s: decode answer: %w", path, err)
		}
	}
	return nil
}
