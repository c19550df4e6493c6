package fetch

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/test/us3emu"
)

// changeMessage is what a download that met another version reports.
const changeMessage = "source changed during copy"

// An object replaced mid-download, between ranged GETs (origins that
// honour the conditions, If-Range only, or none of them) or between the
// parts of a streamed body that breaks: the download fails as retryable
// with "source changed during copy", nothing is stored and no multipart
// upload is left; the next attempt stores the new version whole.
func TestExecutor_ExecuteChangedSource(t *testing.T) {
	ctx := context.Background()
	o := startOrigin(t)
	emu, sink := startEmu(t)
	x := testExecutor()
	const mib = 1 << 20
	cases := []struct {
		name, mode string
		vers       versioning
		size       int
		cut        int // the first GET's body breaks after cut bytes (0: never)
		newSize    int // size of the new version (0: the same)
	}{
		{"ranged, etag, conditions honoured", "", versioning{etag: true, lastMod: true}, 13*mib + 5, 0, 0},
		{"ranged, etag, If-Range only", "", versioning{etag: true, ifRangeOnly: true}, 13*mib + 5, 0, 0},
		{"ranged, etag, conditions ignored", "", versioning{etag: true, ignoreIf: true}, 13*mib + 5, 0, 0},
		{"ranged, Last-Modified, conditions ignored", "", versioning{lastMod: true, ignoreIf: true}, 13*mib + 5, 0, 0},
		{"ranged, no validator, size changes", "", versioning{}, 13*mib + 5, 0, 12 * mib},
		{"streamed parts, etag", "noranges", versioning{etag: true}, 9*mib + 7, 5 * mib, 0},
		{"streamed parts, Last-Modified", "noranges", versioning{lastMod: true}, 9*mib + 7, 5 * mib, 0},
		{"streamed single put, etag", "noranges", versioning{etag: true}, 100 << 10, 1000, 0},
		{"streamed, no validator, size changes", "noranges", versioning{}, 9*mib + 7, 5 * mib, 8 * mib},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			oldData := randomBytes(c.size, uint64(1000+i))
			newData := randomBytes(c.size, uint64(2000+i))
			if c.newSize > 0 {
				newData = newData[:c.newSize]
			}
			key := "changed/" + strings.ReplaceAll(c.name, " ", "-")
			u := o.add("/"+key, oldData, c.mode)
			o.setVersioning("/"+key, c.vers)
			o.replace("/"+key, 1, newData)
			if c.cut > 0 {
				o.cut("/"+key, c.cut)
			}
			task := Task{ID: "t", URL: u, Key: key, Concurrency: 2, AllowPrivateURLs: true}

			res := x.Execute(ctx, task, sink)
			if res.OK && res.SHA1 != sha1Hex(oldData) && res.SHA1 != sha1Hex(newData) {
				t.Fatalf("Execute across the change stored a mix of both versions (SHA1 %s)", res.SHA1)
			}
			if res.OK || !res.Retry || !strings.Contains(res.Message, changeMessage) {
				t.Fatalf("Execute across the change = %+v, want a retryable failure with %q", res, changeMessage)
			}
			if _, err := sink.Head(ctx, key); err == nil {
				t.Fatal("the failed download stored an object")
			}
			for _, p := range emu.PendingUploads() {
				if p.Key == key {
					t.Fatalf("multipart upload %s of %d parts left behind", p.UploadID, p.Parts)
				}
			}

			res = x.Execute(ctx, task, sink)
			if !res.OK || res.SHA1 != sha1Hex(newData) || res.Size != int64(len(newData)) || res.ETag != us3ETag(newData) {
				t.Fatalf("Execute of the new version = %+v, want SHA1 %s, %d bytes", res, sha1Hex(newData), len(newData))
			}
			if got := readStored(t, sink, key); sha1Hex(got) != sha1Hex(newData) {
				t.Fatalf("stored %d bytes, SHA1 %s: not the new version", len(got), sha1Hex(got))
			}
		})
	}
}

// Through the master: a task whose source changes once is tried again and
// its success callback carries the new version; one whose source changes
// on every GET fails after FetchMaxAttempts leases, and its failure
// callback says why.
func TestService_changedSource(t *testing.T) {
	c := startCluster(t, 1)
	o := startOrigin(t)
	rc := &receiver{}
	addr := freeAddr(t)
	serveAt(t, addr, rc)
	cb := "http://" + addr
	oldData, newData := randomBytes(9<<20+3, 31), randomBytes(9<<20+3, 32)
	once := o.add("/once", oldData, "")
	o.setVersioning("/once", versioning{etag: true})
	o.replace("/once", 1, newData)
	always := o.add("/always", oldData, "")
	o.setVersioning("/always", versioning{etag: true, churn: true})

	post := func(u, key string) string {
		status, r := postJSON(t, c.master, Request{URL: u, Bucket: us3emu.TestBucket, Key: key, JobID: c.job,
			SuccessCallbackURL: cb + "/ok", FailureCallbackURL: cb + "/fail"}, testPub, testPriv)
		if status != 200 || r.TaskID == "" {
			t.Fatalf("POST %s = %d %+v", key, status, r)
		}
		return r.TaskID
	}
	onceID, alwaysID := post(once, "once"), post(always, "always")
	eventually(t, "both callbacks", func() bool { return len(rc.got("/ok")) == 1 && len(rc.got("/fail")) == 1 })

	var ok SuccessCallback
	json.Unmarshal([]byte(rc.got("/ok")[0]), &ok)
	if ok.TaskID != onceID || ok.SHA1 != sha1Hex(newData) || ok.Size != int64(len(newData)) || ok.ETag != us3ETag(newData) {
		t.Fatalf("success callback = %+v, want the new version (SHA1 %s)", ok, sha1Hex(newData))
	}
	if got := readStored(t, c.sink, "once"); sha1Hex(got) != sha1Hex(newData) {
		t.Fatal("the stored object is not the new version")
	}
	var bad FailureCallback
	json.Unmarshal([]byte(rc.got("/fail")[0]), &bad)
	if bad.TaskID != alwaysID || !strings.Contains(bad.Message, changeMessage) || bad.Resource != always {
		t.Fatalf("failure callback = %+v, want %q", bad, changeMessage)
	}
	if _, err := c.sink.Head(context.Background(), "always"); err == nil {
		t.Fatal("a source that never held still was stored")
	}
	for id, want := range map[string]int{onceID: 2, alwaysID: catalog.FetchMaxAttempts} {
		task, err := c.db.FetchTask(context.Background(), id)
		if err != nil || task.Attempts != want {
			t.Fatalf("task %s: %d attempts (%v), want %d", id, task.Attempts, err, want)
		}
	}
}
