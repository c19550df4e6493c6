package fetch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ferry-project/ferry/fs"
)

// ErrUnknownJob reports a JobId that names no fetch job (no job at all, or
// a job of another type). JobLookup implementations wrap it.
var ErrUnknownJob = errors.New("unknown fetch job")

// KeyPair is one public/private key pair allowed to sign a job's requests.
type KeyPair struct {
	Public, Private string
}

// Job is a fetch job as the handler, the dispatcher and the agents need it.
type Job struct {
	ID string
	// Dest is the destination as a location URI: "us3://BUCKET[/prefix]",
	// "s3://BUCKET[/prefix]" or a local directory. A request's Bucket
	// replaces the URI's bucket (see SinkURI).
	Dest string
	// Creds are the environment variables (US3_*, AWS_*, FERRY_DST_*) that
	// open Dest. They are handed to agents only and never logged.
	Creds map[string]string
	// AllowedBuckets are the buckets requests may name. Empty means only
	// Dest's own bucket (and, for a local Dest, none).
	AllowedBuckets []string
	// Keys may sign requests for this job; several pairs are allowed.
	Keys []KeyPair
	// Concurrency bounds the parallel ranged GETs (and parts in flight) of
	// one task; 0 means the executor's default.
	Concurrency int
	// AllowPrivateURLs lets tasks fetch loopback, link-local, private and
	// other special-purpose addresses (tests on 127.0.0.1, origins inside a
	// private network).
	AllowPrivateURLs bool
	// AllowPrivateCallbacks lets the master POST callbacks to such
	// addresses (receivers inside the master's network). Without it
	// callback URLs pass the same policy as fetched URLs: when posted, when
	// dialed and on every redirect.
	AllowPrivateCallbacks bool
	// RejectReplays makes requests for this job carry a Date header within
	// ReplayWindow of the master's clock, and a POST carry Content-MD5 (so
	// the signature covers the body) and a signature not seen before in
	// the window. Without it a valid Authorization header stays valid, as
	// the wire contract has it.
	RejectReplays bool
	// MaxQueue bounds the job's unfinished tasks (429 beyond); 0 = no
	// per-job limit.
	MaxQueue int
}

// JobLookup finds fetch jobs. The master implements it over its job
// store; StaticJobs is a fixed set (a configuration file, tests).
type JobLookup interface {
	// FetchJob returns the fetch job jobID, or an error wrapping
	// ErrUnknownJob when there is none (or the job is not a fetch job).
	FetchJob(ctx context.Context, jobID string) (Job, error)
}

// KeyIndex is implemented by JobLookups that can find the jobs a public key
// may sign for. The handler uses it to answer a request that is not
// signed with a key of the job or task it names without revealing whether
// that job or task exists: the answer then depends only on the key and the
// signature.
type KeyIndex interface {
	// JobsWithKey returns every job that has the public key.
	JobsWithKey(ctx context.Context, public string) ([]Job, error)
}

// StaticJobs is a JobLookup over a fixed set of jobs keyed by ID.
type StaticJobs map[string]Job

var (
	_ JobLookup = StaticJobs(nil)
	_ KeyIndex  = StaticJobs(nil)
)

// JobsFromConfig indexes jobs by ID; an empty or duplicate ID is an error.
func JobsFromConfig(jobs ...Job) (StaticJobs, error) {
	out := StaticJobs{}
	for _, j := range jobs {
		if j.ID == "" {
			return nil, errors.New("fetch jobs: a job has no ID")
		}
		if _, dup := out[j.ID]; dup {
			return nil, fmt.Errorf("fetch jobs: duplicate job ID %q", j.ID)
		}
		out[j.ID] = j
	}
	return out, nil
}

// FetchJob returns the job with ID jobID.
func (s StaticJobs) FetchJob(ctx context.Context, jobID string) (Job, error) {
	j, ok := s[jobID]
	if !ok {
		return Job{}, fmt.Errorf("fetch job %q: %w", jobID, ErrUnknownJob)
	}
	return j, nil
}

// JobsWithKey returns the jobs that have the public key.
func (s StaticJobs) JobsWithKey(ctx context.Context, public string) ([]Job, error) {
	var out []Job
	for _, j := range s {
		if _, ok := j.Key(public); ok {
			out = append(out, j)
		}
	}
	return out, nil
}

// Key returns the private key paired with public, if the job has it.
func (j Job) Key(public string) (string, bool) {
	for _, k := range j.Keys {
		if k.Public == public && public != "" {
			return k.Private, true
		}
	}
	return "", false
}

// bucketName reports whether b can name a bucket (and a directory).
func (Job) bucketName(b string) bool {
	return b != "" && !strings.ContainsAny(b, "/\\ ?#@:\x00") && b != "." && b != ".." && len(b) <= 255
}

// BucketAllowed reports whether requests may name bucket; drivers parse
// Dest.
func (j Job) BucketAllowed(drivers fs.Registry, bucket string) bool {
	if !j.bucketName(bucket) {
		return false
	}
	if len(j.AllowedBuckets) == 0 {
		u, err := drivers.Parse(j.Dest)
		return err == nil && u.Bucket != "" && u.Bucket == bucket
	}
	for _, b := range j.AllowedBuckets {
		if b == bucket {
			return true
		}
	}
	return false
}

// SinkURI is the location a task for bucket is written to: Dest with its
// bucket replaced by bucket (the prefix kept) for object stores, or the
// directory bucket inside Dest for a local destination (a path-shaped one);
// drivers parse Dest and refuse one that cannot be written.
func (j Job) SinkURI(drivers fs.Registry, bucket string) (string, error) {
	u, d, err := drivers.ResolveDest(j.Dest)
	if err != nil {
		return "", fmt.Errorf("fetch job %s destination: %w", j.ID, err)
	}
	if !j.bucketName(bucket) {
		return "", fmt.Errorf("fetch job %s: invalid bucket %q", j.ID, bucket)
	}
	if d.Shape == fs.PathShape {
		u.Path = filepath.Join(u.Path, bucket)
	} else {
		u.Bucket = bucket
	}
	return u.String(), nil
}
