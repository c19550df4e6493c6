package catalog

// masterMigrations are the steps for the master's state: jobs, their path
// ranges and leases, range path lists, agents, failed objects, counters and
// the history of finished runs. Every catalog carries these tables (versions
// are global); only `ferry master` writes them.
func masterMigrations() []migration {
	return []migration{
		{2, "master: jobs, ranges, leases, agents, failures", schemaMasterV2},
		{6, "master: split tails held until the holder confirms the cut", schemaMasterV6},
		{9, "master: saved sources (secrets sealed)", schemaSourcesV9},
	}
}

// schemaMasterV6 links a range split off a leased one to its parent while
// it waits, in state 'held', for the parent's holder to confirm the cut.
const schemaMasterV6 = `ALTER TABLE ranges ADD COLUMN parent INTEGER NOT NULL DEFAULT 0;`

// Counter columns: a range's finished leases are folded into copied, bytes
// and unchanged; the lease in progress reports l_copied, l_bytes and
// l_unchanged, which are folded in when the lease ends or is re-granted.
const schemaMasterV2 = `
CREATE TABLE jobs (
	id             TEXT    NOT NULL PRIMARY KEY,
	source         TEXT    NOT NULL,
	dest           TEXT    NOT NULL,
	options        TEXT    NOT NULL DEFAULT '{}',
	creds          TEXT    NOT NULL DEFAULT '{}',
	schedule       TEXT    NOT NULL DEFAULT '',
	state          TEXT    NOT NULL DEFAULT 'pending',
	run            INTEGER NOT NULL DEFAULT 1,
	error          TEXT    NOT NULL DEFAULT '',
	created_at     INTEGER NOT NULL DEFAULT 0,
	updated_at     INTEGER NOT NULL DEFAULT 0,
	run_started_at INTEGER NOT NULL DEFAULT 0,
	finished_at    INTEGER NOT NULL DEFAULT 0,
	next_run       INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE ranges (
	job_id      TEXT    NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
	id          INTEGER NOT NULL,
	start       TEXT    NOT NULL DEFAULT '',
	end         TEXT    NOT NULL DEFAULT '',
	cursor      TEXT    NOT NULL DEFAULT '',
	state       TEXT    NOT NULL DEFAULT 'pending',
	listed      INTEGER NOT NULL DEFAULT 0,
	retry       INTEGER NOT NULL DEFAULT 0,
	agent       TEXT    NOT NULL DEFAULT '',
	lease_id    TEXT    NOT NULL DEFAULT '',
	deadline    INTEGER NOT NULL DEFAULT 0,
	leased_at   INTEGER NOT NULL DEFAULT 0,
	leases      INTEGER NOT NULL DEFAULT 0,
	errors      INTEGER NOT NULL DEFAULT 0,
	last_error  TEXT    NOT NULL DEFAULT '',
	copied      INTEGER NOT NULL DEFAULT 0,
	bytes       INTEGER NOT NULL DEFAULT 0,
	unchanged   INTEGER NOT NULL DEFAULT 0,
	l_copied    INTEGER NOT NULL DEFAULT 0,
	l_bytes     INTEGER NOT NULL DEFAULT 0,
	l_unchanged INTEGER NOT NULL DEFAULT 0,
	started_at  INTEGER NOT NULL DEFAULT 0,
	finished_at INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (job_id, id)
);
CREATE INDEX ranges_state ON ranges(state, job_id, id);

CREATE TABLE range_paths (
	job_id   TEXT    NOT NULL,
	range_id INTEGER NOT NULL,
	path     TEXT    NOT NULL,
	PRIMARY KEY (job_id, range_id, path),
	FOREIGN KEY (job_id, range_id) REFERENCES ranges(job_id, id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE failed_objects (
	job_id   TEXT    NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
	run      INTEGER NOT NULL,
	path     TEXT    NOT NULL,
	range_id INTEGER NOT NULL DEFAULT 0,
	size     INTEGER NOT NULL DEFAULT 0,
	error    TEXT    NOT NULL DEFAULT '',
	agent    TEXT    NOT NULL DEFAULT '',
	at       INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (job_id, run, path)
) WITHOUT ROWID;

CREATE TABLE runs (
	job_id      TEXT    NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
	run         INTEGER NOT NULL,
	state       TEXT    NOT NULL,
	started_at  INTEGER NOT NULL DEFAULT 0,
	finished_at INTEGER NOT NULL DEFAULT 0,
	copied      INTEGER NOT NULL DEFAULT 0,
	bytes       INTEGER NOT NULL DEFAULT 0,
	unchanged   INTEGER NOT NULL DEFAULT 0,
	failed      INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (job_id, run)
) WITHOUT ROWID;

CREATE TABLE agents (
	name       TEXT    NOT NULL PRIMARY KEY,
	first_seen INTEGER NOT NULL DEFAULT 0,
	last_seen  INTEGER NOT NULL DEFAULT 0,
	job_id     TEXT    NOT NULL DEFAULT '',
	range_id   INTEGER NOT NULL DEFAULT 0,
	lease_id   TEXT    NOT NULL DEFAULT '',
	copied     INTEGER NOT NULL DEFAULT 0,
	bytes      INTEGER NOT NULL DEFAULT 0,
	last_lease_bytes  INTEGER NOT NULL DEFAULT 0,
	last_lease_copied INTEGER NOT NULL DEFAULT 0,
	rate_objects REAL  NOT NULL DEFAULT 0,
	rate_bytes   REAL  NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE counters (
	name  TEXT    NOT NULL PRIMARY KEY,
	value INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
`
