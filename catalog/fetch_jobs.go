package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// FetchKey is one key pair allowed to sign a fetch job's requests.
type FetchKey struct {
	Public  string `json:"public"`
	Private string `json:"private"`
}

// FetchJob is a fetch job as the master stores it: where fetched objects
// go and who may ask. Creds and the private keys never leave the master
// except to agents (creds) and the signature check (keys); they are stored
// encrypted when the catalog has a secret key (OpenMaster).
type FetchJob struct {
	ID               string
	Dest             string            // destination location URI
	Creds            map[string]string // environment variables that open Dest
	AllowedBuckets   []string          // empty: only Dest's bucket
	Keys             []FetchKey
	Concurrency      int  // parallel parts per task (0: the agent's default)
	AllowPrivateURLs bool // fetch loopback, link-local and private addresses
	MaxQueue         int  // unfinished tasks of the job (0: no limit)
	// AllowPrivateCallbacks lets callbacks go to loopback, link-local and
	// private addresses.
	AllowPrivateCallbacks bool
	// RejectReplays makes requests carry a fresh Date and refuses a
	// signature seen twice.
	RejectReplays bool
	CreatedAt     time.Time
}

// schemaFetchV4 adds the fetch jobs table (keys and creds as JSON).
const schemaFetchV4 = `
CREATE TABLE fetch_jobs (
	id              TEXT    NOT NULL PRIMARY KEY,
	dest            TEXT    NOT NULL,
	creds           TEXT    NOT NULL DEFAULT '{}',
	allowed_buckets TEXT    NOT NULL DEFAULT '[]',
	keys            TEXT    NOT NULL DEFAULT '[]',
	concurrency     INTEGER NOT NULL DEFAULT 0,
	allow_private   INTEGER NOT NULL DEFAULT 0,
	max_queue       INTEGER NOT NULL DEFAULT 0,
	created_at      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
`

// schemaFetchV7 adds the jobs' callback policy and replay options.
const schemaFetchV7 = `
ALTER TABLE fetch_jobs ADD COLUMN allow_private_callbacks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE fetch_jobs ADD COLUMN reject_replays INTEGER NOT NULL DEFAULT 0;
`

// CreateFetchJob stores j. An ID already taken (by a fetch job) gives an
// error wrapping ErrJobExists; a job without an ID, a destination or a key
// is refused.
func (q *FetchQueue) CreateFetchJob(ctx context.Context, j FetchJob, now time.Time) error {
	if j.ID == "" || j.Dest == "" || len(j.Keys) == 0 {
		return errors.New("create fetch job: ID, destination and at least one key are required")
	}
	for _, k := range j.Keys {
		if k.Public == "" || k.Private == "" {
			return errors.New("create fetch job: a key pair has an empty part")
		}
	}
	plainCreds, err := json.Marshal(nonNilMap(j.Creds))
	if err != nil {
		return fmt.Errorf("create fetch job: %w", err)
	}
	buckets, _ := json.Marshal(nonNilSlice(j.AllowedBuckets))
	plainKeys, _ := json.Marshal(j.Keys)
	creds, err := q.st.sealValue(plainCreds)
	if err != nil {
		return fmt.Errorf("create fetch job %s: %w", j.ID, err)
	}
	keys, err := q.st.sealValue(plainKeys)
	if err != nil {
		return fmt.Errorf("create fetch job %s: %w", j.ID, err)
	}
	return q.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO fetch_jobs (id, dest, creds, allowed_buckets, keys, concurrency,
			allow_private, max_queue, allow_private_callbacks, reject_replays, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			j.ID, j.Dest, creds, string(buckets), keys, j.Concurrency, j.AllowPrivateURLs, j.MaxQueue,
			j.AllowPrivateCallbacks, j.RejectReplays, nanos(now))
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE constraint failed") {
				return fmt.Errorf("create fetch job %s: %w", j.ID, ErrJobExists)
			}
			return fmt.Errorf("create fetch job %s: %w", j.ID, err)
		}
		return nil
	})
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const fetchJobCols = `id, dest, creds, allowed_buckets, keys, concurrency, allow_private, max_queue,
	allow_private_callbacks, reject_replays, created_at`

// scanFetchJob reads one row selected with fetchJobCols, opening its
// sealed columns.
func (q *FetchQueue) scanFetchJob(sc scanner) (FetchJob, error) {
	var j FetchJob
	var sealedCreds, buckets, sealedKeys string
	var created int64
	if err := sc.Scan(&j.ID, &j.Dest, &sealedCreds, &buckets, &sealedKeys, &j.Concurrency, &j.AllowPrivateURLs, &j.MaxQueue,
		&j.AllowPrivateCallbacks, &j.RejectReplays, &created); err != nil {
		return FetchJob{}, err
	}
	creds, err := q.st.openValue(sealedCreds)
	if err != nil {
		return FetchJob{}, fmt.Errorf("read fetch job %s: credentials: %w", j.ID, err)
	}
	keys, err := q.st.openValue(sealedKeys)
	if err != nil {
		return FetchJob{}, fmt.Errorf("read fetch job %s: keys: %w", j.ID, err)
	}
	if err := errors.Join(json.Unmarshal(creds, &j.Creds), json.Unmarshal([]byte(buckets), &j.AllowedBuckets),
		json.Unmarshal(keys, &j.Keys)); err != nil {
		return FetchJob{}, fmt.Errorf("decode fetch job %s: %w", j.ID, err)
	}
	j.CreatedAt = fromNanos(created)
	return j, nil
}

// FetchJob returns the fetch job id, or an error wrapping ErrJobNotFound.
func (q *FetchQueue) FetchJob(ctx context.Context, id string) (FetchJob, error) {
	r, err := q.st.reader()
	if err != nil {
		return FetchJob{}, err
	}
	j, err := q.scanFetchJob(r.QueryRowContext(ctx, `SELECT `+fetchJobCols+` FROM fetch_jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return FetchJob{}, fmt.Errorf("fetch job %s: %w", id, ErrJobNotFound)
	}
	if err != nil {
		return FetchJob{}, fmt.Errorf("read fetch job %s: %w", id, err)
	}
	return j, nil
}

// FetchJobs returns every fetch job, oldest first.
func (q *FetchQueue) FetchJobs(ctx context.Context) ([]FetchJob, error) {
	r, err := q.st.reader()
	if err != nil {
		return nil, err
	}
	return collect(ctx, r, "list fetch jobs", q.scanFetchJob, `SELECT `+fetchJobCols+` FROM fetch_jobs ORDER BY created_at, id`)
}

// DeleteFetchJob removes a fetch job; its unfinished tasks fail ("fetch job
// deleted", failure callbacks scheduled) and finished tasks are kept. An
// unknown ID gives an error wrapping ErrJobNotFound.
func (q *FetchQueue) DeleteFetchJob(ctx context.Context, id string, now time.Time) error {
	return q.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM fetch_jobs WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete fetch job %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete fetch job %s: %w", id, err)
		} else if n == 0 {
			return fmt.Errorf("fetch job %s: %w", id, ErrJobNotFound)
		}
		_, err = tx.ExecContext(ctx, `UPDATE fetch_tasks SET state = 'failed', last_error = 'fetch job deleted',
			deadline = 0, updated_at = ?1, finished_at = ?1, cb_next = ?1,
			cb_state = CASE WHEN failure_cb = '' THEN 'none' ELSE 'pending' END
			WHERE job_id = ?2 AND state IN ('pending', 'leased', 'running')`, nanos(now), id)
		if err != nil {
			return fmt.Errorf("fail tasks of fetch job %s: %w", id, err)
		}
		return nil
	})
}
