// Package us3emu is a protocol-faithful emulator of UCloud US3 (UFile) as
// ufile-gosdk v1.0.7 speaks it (see shared/reference/us3-api.md). Tests start
// it in-process with StartForTest; end-to-end scripts run the binary in
// cmd/us3emu.
//
// # Addressing
//
// A request whose Host is "<bucket>.<anything>" addresses that bucket when
// <bucket> is one of Options.Buckets; every other request addresses the first
// bucket. The object key is the percent-decoded URL path without its leading
// "/", so keys may hold "//", "..", spaces, "%", "+", "#" and any bytes. The
// SDK's default URL form (http://<bucket>.<FileHost>/key) reaches an emulator
// on loopback through the client returned by NewClient.
//
// # Authentication
//
// Every object request must be signed with the configured key pair: the
// "Authorization: UCloud <pub>:<sig>" header (optionally ":<policy>", and
// optionally with canonicalised x-ucloud-*/x-ufile-* headers), a presigned
// query (UCloudPublicKey, Signature, Expires; expiry is checked first), or,
// for PostFile, the Authorization form field. The signed resource uses the
// bucket name the request addresses and the raw key ("" for bucket-level
// calls). Failures answer 401 (no or malformed credentials) or 403 (unknown
// public key, bad signature, expired URL) with a JSON error body.
//
// # Errors
//
// Every error is JSON {"RetCode": <negative>, "ErrMsg": "..."} with
// Content-Type application/json and an X-SessionId header. RetCodes -30010
// (bucket not exist) and -148654 (file not exist) follow UCloud; the others
// are this emulator's choice (see the ret* constants in errors.go).
//
// # Multipart
//
// Initiate returns BlkSize (Options.BlkSize, default 4 MiB). Parts are
// 0-based. UploadPart rejects bodies larger than BlkSize; Finish requires the
// comma-joined part ETags of exactly the parts 0..n-1 that were uploaded,
// every part but the last of exactly BlkSize bytes. A part's ETag is
// base64url-with-padding(SHA-1(part)). An object's ETag is always the US3
// ETag of its whole content over 4 MiB blocks, whatever BlkSize is. ListParts
// returns parts with PartNum >= part-number-marker and sets
// NextPartNumberMarker to the next part number to ask for (pass it back as
// is). Listing JSON carries ETags unquoted; headers carry them quoted.
//
// # Storage
//
// Objects live under Root/<bucket>/: blobs/ (immutable data files), meta/
// (one JSON sidecar per key, named by the SHA-256 of the key), uploads/ (one
// directory per pending multipart upload) and tmp/. Every write goes to tmp/
// first and is renamed into place, so a crash never leaves a half object; an
// in-memory sorted key index is rebuilt from meta/ at start. Bodies are
// streamed to disk: memory does not grow with object size. Listing JSON
// cannot carry keys that are not valid UTF-8 (encoding/json replaces the bad
// bytes); every other operation handles any key bytes.
//
// # Admin API
//
// Paths under /_us3emu/ are the admin API (no signature, no fault
// injection); the key "_us3emu" and keys starting with "_us3emu/" are
// therefore reserved.
//
//	GET  /_us3emu/health        200 "ok"
//	GET  /_us3emu/stats         Stats as JSON
//	POST /_us3emu/stats/reset   zero the counters
//	GET  /_us3emu/uploads       pending multipart uploads, JSON array of PendingUpload
//	GET  /_us3emu/faults        current faults as JSON
//	PUT  /_us3emu/faults        set faults: {"error_rate":0.3,"drop_rate":0.1,"latency_ms":20}
//
// # Faults
//
// Faults apply to object requests only. Latency is added first; then, with
// probability ErrorRate, the request body is drained and the request is
// answered 500 or 503 with a JSON error; otherwise, with probability
// DropRate, the connection is closed mid-request: after reading half the
// request body, or after sending half the response body of a GET, or at once.
// An injected fault never changes stored data.
package us3emu
