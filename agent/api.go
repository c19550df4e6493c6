// Package agent is Ferry's distributed mode: the master service (a JSON API
// over a SQLite master catalog that cuts jobs into path ranges, leases them
// to agents, splits busy ranges, expires dead leases and re-runs scheduled
// jobs) and the agent loop (lease a range, copy it with the transfer engine
// into the agent's own catalog, report progress, take the next range).
//
// The wire types below are the JSON API under /api/v1/. Operators use the
// admin token, agents the cluster token, both as "Authorization: Bearer T".
// Every error is a JSON body {"error": "...", "code": "..."} with a fitting
// status (ErrorCode); the one Client turns it into an *APIError. GET
// /api/v1/jobs[/{id}] serves every type of job (JobType) as one JobView.
// Credentials given to a job travel only in leases, to agents; no other
// answer carries them.
package agent

import "time"

// JobOptions tune how a job is copied. The zero value means: the agent's
// own worker count, 8 MiB parts, no bandwidth limit, no filters, the
// "modtime" skip rule, no deletion.
type JobOptions struct {
	Workers  int      `json:"workers,omitempty"`   // parts in flight per agent
	PartSize int64    `json:"part_size,omitempty"` // requested multipart part size
	BWLimit  int64    `json:"bwlimit,omitempty"`   // source bytes per second per agent
	Include  []string `json:"include,omitempty"`   // glob filters (see transfer.Filter)
	Exclude  []string `json:"exclude,omitempty"`
	Attempts int      `json:"attempts,omitempty"` // tries per request
	// Skip is the rule that decides an object needs no copy because the
	// destination already holds it: "modtime" (default: same size, and the
	// same ETag or a destination copy not older than the source), "size"
	// (same size) or "none" (copy unless this agent's catalog has it done).
	Skip string `json:"skip,omitempty"`
	// Delete removes destination objects that vanished from the source
	// (only where the destination supports deletion).
	Delete bool `json:"delete,omitempty"`

	FromEndpoint string `json:"from_endpoint,omitempty"`
	ToEndpoint   string `json:"to_endpoint,omitempty"`
	FromRegion   string `json:"from_region,omitempty"`
	ToRegion     string `json:"to_region,omitempty"`
	PathStyle    bool   `json:"path_style,omitempty"`
}

// Skip rules.
const (
	SkipModTime = "modtime"
	SkipSize    = "size"
	SkipNone    = "none"
)

// JobSpec is the body of POST /api/v1/jobs.
type JobSpec struct {
	Source   string     `json:"source"`
	Dest     string     `json:"dest"`
	Options  JobOptions `json:"options"`
	Schedule string     `json:"schedule,omitempty"` // 5-field cron, @hourly…, "@every 6h"
	// Credentials are environment variables (US3_*, AWS_*, FERRY_SRC_*,
	// FERRY_DST_*) stored with the job and sent only to agents.
	Credentials map[string]string `json:"credentials,omitempty"`
	// Paths, when set, are the only source paths the job copies.
	Paths []string `json:"paths,omitempty"`
}

// Job types: JobView.Type. Other types plug into the master as a JobType.
const (
	TypeMigrate = "migrate" // ranges of a source tree leased to agents
	TypeFetch   = "fetch"   // single URLs posted to /fetch/
)

// JobView is a job of any type as the API shows it (never with
// credentials): GET /api/v1/jobs lists every type, GET /api/v1/jobs/{id}
// shows one. The fields up to Runs describe migrate jobs (a job of another
// type sets those that apply: ID, Dest, State, counters, CreatedAt); each
// other type adds its own section (Fetch), set only on jobs of that type.
type JobView struct {
	ID string `json:"id"`
	// Type is TypeMigrate, TypeFetch or the name of another JobType.
	Type     string     `json:"type"`
	Source   string     `json:"source"`
	Dest     string     `json:"dest"`
	Options  JobOptions `json:"options"`
	Schedule string     `json:"schedule,omitempty"`
	// State is pending, running, paused, done, failed or canceled. done: the
	// run finished with every object copied or unchanged; failed: it
	// finished but some objects (see the failed list) or ranges failed.
	// A fetch job is running while any task is pending, leased or
	// running, and idle otherwise; its objects are its finished tasks.
	State string `json:"state"`
	Run   int    `json:"run"`
	Error string `json:"error,omitempty"`

	Objects   int64 `json:"objects"` // copied + unchanged + failed
	Copied    int64 `json:"copied"`
	Unchanged int64 `json:"unchanged"`
	Failed    int64 `json:"failed"`
	Bytes     int64 `json:"bytes"`

	RateObjects float64  `json:"rate_objects"` // objects/s, summed over its agents
	RateBytes   float64  `json:"rate_bytes"`
	ETASeconds  *float64 `json:"eta_seconds,omitempty"` // rough estimate

	RangesTotal   int `json:"ranges_total"`
	RangesPending int `json:"ranges_pending"`
	RangesLeased  int `json:"ranges_leased"`
	RangesDone    int `json:"ranges_done"`
	RangesFailed  int `json:"ranges_failed"`

	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	NextRun    *time.Time `json:"next_run,omitempty"`

	Ranges []RangeView `json:"ranges,omitempty"` // only in GET /jobs/{id}
	Runs   []RunView   `json:"runs,omitempty"`   // finished runs, only in GET /jobs/{id}

	// Fetch is the section of a fetch job.
	Fetch *FetchView `json:"fetch,omitempty"`
}

// FetchView is the fetch section of a JobView: the job's settings (public
// keys and credential names only) and its tasks. The older routes
// /api/v1/fetch/jobs[/{id}] answer these fields beside id, type, dest and
// created_at (fetch.JobView).
type FetchView struct {
	AllowedBuckets  []string `json:"allowed_buckets"`
	PublicKeys      []string `json:"public_keys"`
	CredentialNames []string `json:"credential_names,omitempty"`
	Concurrency     int      `json:"concurrency,omitempty"`
	// AllowPrivateURLs and AllowPrivateCallbacks lift the URL policy for
	// fetched URLs and callback targets; RejectReplays requires fresh,
	// never reused signatures.
	AllowPrivateURLs      bool           `json:"allow_private_urls"`
	MaxQueue              int            `json:"max_queue,omitempty"`
	AllowPrivateCallbacks bool           `json:"allow_private_callbacks"`
	RejectReplays         bool           `json:"reject_replays"`
	Tasks                 map[string]int `json:"tasks"`     // by state: pending, leased, running, done, failed
	Callbacks             map[string]int `json:"callbacks"` // finished tasks by callback state
}

// RangeView is one path range of a job.
type RangeView struct {
	ID         int        `json:"id"`
	Start      string     `json:"start"`
	End        string     `json:"end"`
	Cursor     string     `json:"cursor"`
	State      string     `json:"state"`
	Retry      bool       `json:"retry,omitempty"`
	Agent      string     `json:"agent,omitempty"`
	Leases     int        `json:"leases"`
	Errors     int        `json:"errors,omitempty"`
	LastError  string     `json:"last_error,omitempty"`
	Copied     int64      `json:"copied"`
	Unchanged  int64      `json:"unchanged"`
	Failed     int64      `json:"failed"`
	Bytes      int64      `json:"bytes"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Seconds    float64    `json:"seconds"` // from first lease to finish (or now)
}

// RunView is one finished run of a job.
type RunView struct {
	Run        int       `json:"run"`
	State      string    `json:"state"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Copied     int64     `json:"copied"`
	Unchanged  int64     `json:"unchanged"`
	Failed     int64     `json:"failed"`
	Bytes      int64     `json:"bytes"`
}

// AgentView is one agent as GET /api/v1/agents shows it.
type AgentView struct {
	Name        string    `json:"name"`
	LastSeen    time.Time `json:"last_seen"`
	Active      bool      `json:"active"` // heard from within three lease TTLs
	JobID       string    `json:"job_id,omitempty"`
	RangeID     int       `json:"range_id,omitempty"`
	Objects     int64     `json:"objects"`
	Bytes       int64     `json:"bytes"`
	RateObjects float64   `json:"rate_objects"`
	RateBytes   float64   `json:"rate_bytes"`
}

// FailureView is one failed object.
type FailureView struct {
	Path    string    `json:"path"`
	Size    int64     `json:"size"`
	Error   string    `json:"error"`
	RangeID int       `json:"range_id,omitempty"`
	Agent   string    `json:"agent,omitempty"`
	At      time.Time `json:"at,omitempty"`
}

// RetryView answers POST /api/v1/jobs/{id}/retry-failed.
type RetryView struct {
	Objects int `json:"objects"`
	Ranges  int `json:"ranges"`
}

// LeaseRequest is the body of POST /api/v1/leases.
type LeaseRequest struct {
	Agent string `json:"agent"`
}

// LeaseView is a leased range (answer of POST /api/v1/leases, 200; 204
// means no work). It carries the job's credentials.
type LeaseView struct {
	ID          string            `json:"id"`
	JobID       string            `json:"job_id"`
	RangeID     int               `json:"range_id"`
	Run         int               `json:"run"`
	Start       string            `json:"start"`
	End         string            `json:"end"`
	Cursor      string            `json:"cursor"`
	Retry       bool              `json:"retry,omitempty"`
	Listed      bool              `json:"listed,omitempty"`
	Paths       []string          `json:"paths,omitempty"`
	Source      string            `json:"source"`
	Dest        string            `json:"dest"`
	Options     JobOptions        `json:"options"`
	Credentials map[string]string `json:"credentials,omitempty"`
	TTLSeconds  float64           `json:"ttl_seconds"`
	// HeartbeatSeconds is how often the agent should report.
	HeartbeatSeconds float64 `json:"heartbeat_seconds"`
}

// ReportRequest is the body of POST /api/v1/leases/{id}/report. Counters
// are cumulative for the lease.
type ReportRequest struct {
	Agent     string        `json:"agent"`
	JobID     string        `json:"job_id"`
	RangeID   int           `json:"range_id"`
	Cursor    string        `json:"cursor"`
	Walked    string        `json:"walked,omitempty"`  // the last key the walk handed out
	Applied   string        `json:"applied,omitempty"` // the lowered end the agent applied after a split
	Copied    int64         `json:"copied"`
	Bytes     int64         `json:"bytes"`
	Unchanged int64         `json:"unchanged"`
	Failed    int64         `json:"failed"`
	Failures  []FailureView `json:"failures,omitempty"`
	Done      bool          `json:"done,omitempty"`
	Error     string        `json:"error,omitempty"`
}

// ReportReply answers a report: End is the range's current end (lower than
// the lease's after a split: the agent then stops its walk there and
// confirms with Applied and Walked in its next report); Stop tells the
// agent to stop the range.
type ReportReply struct {
	End    string `json:"end"`
	Stop   bool   `json:"stop,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// errorBody is every error answer: the message, and a short code for
// programs (ErrorCode of the status).
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code,omitempty"`
}
