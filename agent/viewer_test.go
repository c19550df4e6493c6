package agent

import (
	"context"
	"errors"
	"net/http"
	"testing"
)

// TestViewerToken: the viewer token reads every admin GET route and is
// refused (403) on every other method and on the agents' routes.
func TestViewerToken(t *testing.T) {
	const viewer = "viewer-secret-token"
	tm := startMaster(t, func(c *MasterConfig) { c.ViewerToken = viewer })
	ctx := context.Background()
	src := t.TempDir()
	j, err := tm.admin.CreateJob(ctx, JobSpec{Source: src, Dest: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewClient(tm.srv.URL, viewer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Jobs(ctx); err != nil {
		t.Errorf("viewer lists jobs: %v", err)
	}
	if _, err := v.Job(ctx, j.ID); err != nil {
		t.Errorf("viewer shows a job: %v", err)
	}
	if _, err := v.Agents(ctx); err != nil {
		t.Errorf("viewer lists agents: %v", err)
	}
	forbidden := func(what string, err error) {
		t.Helper()
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
			t.Errorf("viewer %s: %v, want 403", what, err)
		}
	}
	_, err = v.CreateJob(ctx, JobSpec{Source: src, Dest: t.TempDir()})
	forbidden("creates a job", err)
	for _, a := range []string{"pause", "resume", "cancel"} {
		_, err = v.JobAction(ctx, j.ID, a)
		forbidden(a, err)
	}
	_, err = v.RetryFailed(ctx, j.ID)
	forbidden("retries", err)
	forbidden("deletes", v.DeleteJob(ctx, j.ID))
	_, _, err = v.Lease(ctx, "a1")
	forbidden("leases", err)
	if _, err := tm.admin.Job(ctx, j.ID); err != nil {
		t.Errorf("the job after the viewer's attempts: %v", err)
	}
	// The viewer token must differ from the others.
	for _, same := range []string{adminToken, clusterToken} {
		if _, err := NewMaster(ctx, MasterConfig{DB: tm.db, Opener: tm.opener, AdminToken: adminToken,
			ClusterToken: clusterToken, ViewerToken: same}); err == nil {
			t.Errorf("a viewer token equal to %q was accepted", same)
		}
	}
}
