// Package fetch is Ferry's fetch subsystem: applications POST a signed
// request ("download this URL into this bucket/key, then call me back") to
// the master, which stores it durably in its catalog; agents lease the
// task, stream the URL into the destination and report back; the master
// then POSTs the success or failure callback, retrying across restarts.
//
// The wire format is the one US3's own migration tool documents
// (reference/fetch-api.md), implemented exactly:
//
//   - Handler serves POST /fetch/ and GET /fetch/{TaskId} on the master;
//   - Sign and Verify implement the "UCloud pub:sig" signature;
//   - Policy refuses loopback, link-local and private targets (after DNS
//     resolution and on every redirect) unless the job allows them;
//   - Executor downloads one URL (ranged and parallel when the origin
//     supports it) into a fs.Sink, with SHA-1 and size computed
//     while streaming and the destination's ETag verified;
//   - Dispatcher delivers callbacks with retries and backoff whose
//     schedule lives in the catalog;
//   - AgentAPI (master side) and Worker (agent side) carry leases of fetch
//     tasks between them.
//
// The package knows nothing of the master's job store: the master gives it
// a JobLookup, and the agent a SinkOpener.
package fetch
