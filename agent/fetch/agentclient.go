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
)

// Errors of the agent API client.
var (
	// ErrLeaseLost: the master gave the task to someone else (409).
	ErrLeaseLost = errors.New("fetch lease lost")
	// ErrTaskNotFound: the master does not know the task (404).
	ErrTaskNotFound = errors.New("fetch task not found")
)

// Client calls the master's agent API for fetch tasks.
type Client struct {
	// Master is the master's base URL ("http://host:7070").
	Master string
	// Token is the cluster token, sent as "Authorization: Bearer Token".
	Token string
	// HTTP is the client to use (default http.DefaultClient).
	HTTP *http.Client
}

// Lease asks for up to n tasks for agent.
func (c *Client) Lease(ctx context.Context, agent string, n int) (LeaseReply, error) {
	var reply LeaseReply
	err := c.call(ctx, PathLease, LeaseRequest{Agent: agent, Max: n}, &reply)
	return reply, err
}

// Renew marks a task running and extends its lease.
func (c *Client) Renew(ctx context.Context, id, agent string) error {
	return c.call(ctx, strings.Replace(pathRenew, "{id}", url.PathEscape(id), 1), AgentRequest{Agent: agent}, nil)
}

// Finish reports a task's outcome.
func (c *Client) Finish(ctx context.Context, id, agent string, r Result) error {
	return c.call(ctx, strings.Replace(pathFinish, "{id}", url.PathEscape(id), 1), AgentRequest{
		Agent: agent, OK: r.OK, ETag: r.ETag, SHA1: r.SHA1, Size: r.Size, Error: r.Message, Retry: r.Retry,
	}, nil)
}

// call POSTs in as JSON to path and decodes the answer into out.
func (c *Client) call(ctx context.Context, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.Master, "/")+path, bytes.NewReader(b))
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
		return fmt.Errorf("call master %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("call master %s: read answer: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
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
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("call master %s: decode answer: %w", path, err)
		}
	}
	return nil
}
