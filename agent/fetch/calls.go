package fetch

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/ferry-project/ferry/agent"
)

// The fetch APIs are called through the master's one client, agent.Client
// (bearer token, --ca, one error type: agent.IsLeaseLost for 409,
// agent.IsNotFound for 404); these are their typed calls.

// CreateJob creates a fetch job through POST /api/v1/fetch/jobs (the admin
// token); GET /api/v1/jobs/{id} shows it with every other job.
func CreateJob(ctx context.Context, c *agent.Client, spec JobSpec) (JobView, error) {
	var v JobView
	err := c.Do(ctx, http.MethodPost, PathJobs, spec, &v)
	return v, err
}

// leaseTasks asks for up to n tasks for agent (the cluster token).
func leaseTasks(ctx context.Context, c *agent.Client, agentName string, n int) (LeaseReply, error) {
	var reply LeaseReply
	err := c.Do(ctx, http.MethodPost, PathLease, LeaseRequest{Agent: agentName, Max: n}, &reply)
	return reply, err
}

// renewTask marks a task running and extends its lease.
func renewTask(ctx context.Context, c *agent.Client, id, agentName string) error {
	return c.Do(ctx, http.MethodPost, taskPath(pathRenew, id), AgentRequest{Agent: agentName}, nil)
}

// finishTask reports a task's outcome.
func finishTask(ctx context.Context, c *agent.Client, id, agentName string, r Result) error {
	return c.Do(ctx, http.MethodPost, taskPath(pathFinish, id), AgentRequest{
		Agent: agentName, OK: r.OK, ETag: r.ETag, SHA1: r.SHA1, Size: r.Size, Error: r.Message, Retry: r.Retry,
	}, nil)
}

// taskPath fills the task ID into one of the agent API's patterns.
func taskPath(pattern, id string) string {
	return strings.Replace(pattern, "{id}", url.PathEscape(id), 1)
}
