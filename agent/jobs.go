package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/transfer"
)

// credentialPrefixes are the environment variables a job may carry.
var credentialPrefixes = []string{"US3_", "AWS_", "FERRY_SRC_", "FERRY_DST_"}

// IsCredentialVar reports whether an environment variable name is one a
// job stores with itself (US3_*, AWS_*, FERRY_SRC_*, FERRY_DST_*).
func IsCredentialVar(name string) bool {
	for _, p := range credentialPrefixes {
		if strings.HasPrefix(name, p) && len(name) > len(p) {
			return true
		}
	}
	return false
}

// validateSpec checks everything about a job that needs no I/O.
func validateSpec(s *JobSpec) error {
	if s.Source == "" || s.Dest == "" {
		return errors.New("a job needs a source and a destination")
	}
	if _, err := fs.ParseURI(s.Source); err != nil {
		return fmt.Errorf("source: %w", err)
	}
	u, err := fs.ParseURI(s.Dest)
	if err != nil {
		return fmt.Errorf("destination: %w", err)
	}
	if u.Scheme == "urllist" {
		return errors.New("destination: a URL list cannot be written to")
	}
	if s.Schedule != "" {
		if err := CheckSchedule(s.Schedule); err != nil {
			return err
		}
	}
	o := s.Options
	switch o.Skip {
	case "", SkipModTime, SkipSize, SkipNone:
	default:
		return fmt.Errorf("options: skip must be %s, %s or %s, not %q", SkipModTime, SkipSize, SkipNone, o.Skip)
	}
	if o.Workers < 0 || o.Workers > 1024 {
		return errors.New("options: workers must be between 1 and 1024")
	}
	if o.PartSize < 0 || o.BWLimit < 0 || o.Attempts < 0 {
		return errors.New("options: part_size, bwlimit and attempts cannot be negative")
	}
	if _, err := transfer.NewFilter(o.Include, o.Exclude); err != nil {
		return fmt.Errorf("options: %w", err)
	}
	for k := range s.Credentials {
		if !IsCredentialVar(k) {
			return fmt.Errorf("credentials: %q is not a US3_*, AWS_*, FERRY_SRC_* or FERRY_DST_* variable", k)
		}
	}
	return nil
}

// createJob handles POST /api/v1/jobs: validate, open the source and the
// destination with the job's credentials, plan ranges, store. Nothing is
// stored unless all of it worked.
func (m *Master) createJob(w http.ResponseWriter, r *http.Request) error {
	var spec JobSpec
	if err := decodeJSON(w, r, maxJobBody, &spec); err != nil {
		return err
	}
	if err := validateSpec(&spec); err != nil {
		return errStatus(http.StatusBadRequest, "invalid job: %v", err)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	src, err := m.cfg.Opener.OpenSource(ctx, sourceLocation(spec.Source, spec.Options, spec.Credentials, 8))
	if err != nil {
		return errStatus(http.StatusUnprocessableEntity, "cannot open source %s: %v", spec.Source, err)
	}
	dst, err := m.cfg.Opener.OpenDest(ctx, destLocation(spec.Dest, spec.Options, spec.Credentials, 2))
	if err != nil {
		return errStatus(http.StatusUnprocessableEntity, "cannot open destination %s: %v", spec.Dest, err)
	}
	if _, ok := dst.(fs.Deleter); spec.Options.Delete && !ok {
		return errStatus(http.StatusBadRequest, "invalid job: delete is not supported for destination %s", spec.Dest)
	}
	var ranges []catalog.RangeSpec
	if spec.Paths != nil {
		paths := normalizePaths(spec.Paths)
		if len(paths) == 0 {
			return errStatus(http.StatusBadRequest, "invalid job: the file list is empty")
		}
		ranges = PlanPaths(paths, m.cfg.PathsPerRange)
	} else if ranges, err = PlanRanges(ctx, src, m.cfg.Plan); err != nil {
		return errStatus(http.StatusUnprocessableEntity, "cannot list source %s: %v", spec.Source, err)
	}
	opts, err := json.Marshal(spec.Options)
	if err != nil {
		return fmt.Errorf("encode options: %w", err)
	}
	id := newID("job-")
	err = m.db.CreateJob(r.Context(), catalog.NewJob{
		ID: id, Source: spec.Source, Dest: spec.Dest, Options: string(opts),
		Creds: spec.Credentials, Schedule: spec.Schedule, Ranges: ranges,
	}, m.now())
	if err != nil {
		return err
	}
	m.treesMu.Lock()
	m.trees[id] = src
	m.treesMu.Unlock()
	m.log.Info("job created", "job", id, "source", spec.Source, "dest", spec.Dest, "ranges", len(ranges))
	j, err := m.db.Job(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, m.jobView(j, nil))
	return nil
}

// newID returns prefix + 12 random hex digits.
func newID(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// decodeOptions reads stored options.
func decodeOptions(s string) (JobOptions, error) {
	var o JobOptions
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		return o, fmt.Errorf("decode job options: %w", err)
	}
	return o, nil
}

// getJob reads a job, mapping an unknown ID to 404.
func (m *Master) getJob(ctx context.Context, id string) (catalog.Job, error) {
	j, err := m.db.Job(ctx, id)
	if errors.Is(err, catalog.ErrJobNotFound) {
		return j, errStatus(http.StatusNotFound, "unknown job %q", id)
	}
	return j, err
}

// migrateJobs lists the master's own jobs.
func (m *Master) migrateJobs(ctx context.Context) ([]JobView, error) {
	jobs, err := m.db.Jobs(ctx)
	if err != nil {
		return nil, err
	}
	agents, err := m.db.Agents(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]JobView, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, m.jobView(j, agents))
	}
	return out, nil
}

func (m *Master) showJob(w http.ResponseWriter, r *http.Request) error {
	v, err := m.fullJobView(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// fullJobView is a job with its ranges and finished runs.
func (m *Master) fullJobView(ctx context.Context, id string) (JobView, error) {
	j, err := m.getJob(ctx, id)
	if err != nil {
		return JobView{}, err
	}
	agents, err := m.db.Agents(ctx)
	if err != nil {
		return JobView{}, err
	}
	v := m.jobView(j, agents)
	ranges, err := m.db.Ranges(ctx, id)
	if err != nil {
		return JobView{}, err
	}
	v.Ranges = make([]RangeView, 0, len(ranges))
	for _, rg := range ranges {
		v.Ranges = append(v.Ranges, m.rangeView(rg))
	}
	runs, err := m.db.Runs(ctx, id)
	if err != nil {
		return JobView{}, err
	}
	for _, ri := range runs {
		v.Runs = append(v.Runs, RunView{Run: ri.Run, State: string(ri.State), StartedAt: ri.StartedAt,
			FinishedAt: ri.FinishedAt, Copied: ri.Copied, Unchanged: ri.Unchanged, Failed: ri.Failed, Bytes: ri.Bytes})
	}
	return v, nil
}

func (m *Master) deleteJob(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := m.db.DeleteJob(r.Context(), id); err != nil {
		if errors.Is(err, catalog.ErrJobNotFound) {
			return errStatus(http.StatusNotFound, "unknown job %q", id)
		}
		return err
	}
	m.forgetTree(id)
	m.log.Info("job deleted", "job", id)
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "deleted": true})
	return nil
}

// jobAction handles pause, resume, cancel and retry-failed.
func (m *Master) jobAction(action string) apiHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx, id, now := r.Context(), r.PathValue("id"), m.now()
		var err error
		var retry RetryView
		switch action {
		case "pause":
			err = m.db.PauseJob(ctx, id, now)
		case "resume":
			err = m.db.ResumeJob(ctx, id, now)
		case "cancel":
			err = m.db.CancelJob(ctx, id, now)
		case "retry-failed":
			retry.Objects, retry.Ranges, err = m.db.RetryFailed(ctx, id, m.cfg.PathsPerRange, now)
		}
		switch {
		case errors.Is(err, catalog.ErrJobNotFound):
			return errStatus(http.StatusNotFound, "unknown job %q", id)
		case errors.Is(err, catalog.ErrJobState):
			return errStatus(http.StatusConflict, "cannot %s: %v", action, err)
		case err != nil:
			return err
		}
		m.log.Info("job "+action, "job", id)
		if action == "retry-failed" {
			writeJSON(w, http.StatusOK, retry)
			return nil
		}
		v, err := m.fullJobView(ctx, id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}
