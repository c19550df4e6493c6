package catalog

// fetchMigrations are the steps for the master's fetch jobs and tasks:
// single URLs that applications POST to /fetch/, leased to agents and
// reported back through callbacks. Every catalog carries the table (versions are global);
// only `ferry master` writes it.
func fetchMigrations() []migration {
	return []migration{
		{3, "fetch tasks", schemaFetchV3},
		{4, "fetch jobs", schemaFetchV4},
		{5, "fetch queue counts", schemaFetchV5},
		{7, "fetch job callback policy and replay options", schemaFetchV7},
	}
}

// Times are unix nanoseconds (0 = unset). state is pending, leased, running,
// done or failed; cb_state is none (no callback URL for the outcome),
// pending, delivered or failed. The partial index fetch_open serves both the
// duplicate check and the per-job queue count of unfinished tasks.
const schemaFetchV3 = `
CREATE TABLE fetch_tasks (
	id            TEXT    NOT NULL PRIMARY KEY,
	job_id        TEXT    NOT NULL,
	url           TEXT    NOT NULL,
	bucket        TEXT    NOT NULL,
	key           TEXT    NOT NULL,
	success_cb    TEXT    NOT NULL DEFAULT '',
	failure_cb    TEXT    NOT NULL DEFAULT '',
	state         TEXT    NOT NULL DEFAULT 'pending',
	attempts      INTEGER NOT NULL DEFAULT 0,
	agent         TEXT    NOT NULL DEFAULT '',
	deadline      INTEGER NOT NULL DEFAULT 0,
	last_error    TEXT    NOT NULL DEFAULT '',
	etag          TEXT    NOT NULL DEFAULT '',
	sha1          TEXT    NOT NULL DEFAULT '',
	size          INTEGER NOT NULL DEFAULT 0,
	cb_state      TEXT    NOT NULL DEFAULT 'none',
	cb_attempts   INTEGER NOT NULL DEFAULT 0,
	cb_next       INTEGER NOT NULL DEFAULT 0,
	cb_error      TEXT    NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL DEFAULT 0,
	updated_at    INTEGER NOT NULL DEFAULT 0,
	finished_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX fetch_open ON fetch_tasks(job_id, bucket, key, url)
	WHERE state IN ('pending', 'leased', 'running');
CREATE INDEX fetch_queue ON fetch_tasks(state, created_at);
CREATE INDEX fetch_callbacks ON fetch_tasks(cb_next) WHERE cb_state = 'pending';
`

// schemaFetchV5 keeps the number of unfinished tasks per job in
// fetch_open_counts, maintained by triggers, so the queue limits cost one
// small read per POST however long the queue is.
const schemaFetchV5 = `
CREATE TABLE fetch_open_counts (
	job_id TEXT    NOT NULL PRIMARY KEY,
	n      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO fetch_open_counts (job_id, n)
	SELECT job_id, COUNT(*) FROM fetch_tasks WHERE state IN ('pending', 'leased', 'running') GROUP BY job_id;

CREATE TRIGGER fetch_open_insert AFTER INSERT ON fetch_tasks
	WHEN new.state IN ('pending', 'leased', 'running')
BEGIN
	INSERT INTO fetch_open_counts (job_id, n) VALUES (new.job_id, 1)
		ON CONFLICT(job_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER fetch_open_close AFTER UPDATE OF state ON fetch_tasks
	WHEN old.state IN ('pending', 'leased', 'running') AND new.state NOT IN ('pending', 'leased', 'running')
BEGIN
	UPDATE fetch_open_counts SET n = n - 1 WHERE job_id = old.job_id;
END;
CREATE TRIGGER fetch_open_reopen AFTER UPDATE OF state ON fetch_tasks
	WHEN old.state NOT IN ('pending', 'leased', 'running') AND new.state IN ('pending', 'leased', 'running')
BEGIN
	INSERT INTO fetch_open_counts (job_id, n) VALUES (new.job_id, 1)
		ON CONFLICT(job_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER fetch_open_delete AFTER DELETE ON fetch_tasks
	WHEN old.state IN ('pending', 'leased', 'running')
BEGIN
	UPDATE fetch_open_counts SET n = n - 1 WHERE job_id = old.job_id;
END;
`
