package fetch

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-project/ferry/catalog"
)

func validRequest() Request {
	return Request{URL: "http://127.0.0.1:1/a.bin", Bucket: "bucket-a", Key: "dir/a.bin", JobID: testJob,
		SuccessCallbackURL: "http://127.0.0.1:2/ok", FailureCallbackURL: "http://127.0.0.1:2/fail"}
}

func TestHandler_accept(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	queued := 0
	base := startHandler(t, db, testJobs(t, nil), HandlerOptions{OnQueued: func() { queued++ }})
	status, r := postJSON(t, base, validRequest(), testPub, testPriv)
	if status != http.StatusOK || r.RetCode != 0 || r.ErrMsg != "success" || len(r.TaskID) != 36 {
		t.Fatalf("POST = %d %+v", status, r)
	}
	// Committed before the answer: the task is in the catalog.
	task, err := db.FetchTask(ctx, r.TaskID)
	if err != nil {
		t.Fatal(err)
	}
	want := validRequest()
	if task.URL != want.URL || task.Bucket != want.Bucket || task.Key != want.Key || task.JobID != testJob ||
		task.SuccessCallback != want.SuccessCallbackURL || task.FailureCallback != want.FailureCallbackURL ||
		task.State != catalog.FetchPending {
		t.Fatalf("stored task = %+v", task)
	}
	// The same request while pending: the same TaskId, nothing new queued.
	status, again := postJSON(t, base, validRequest(), "other-pub", "other-priv")
	if status != http.StatusOK || again.TaskID != r.TaskID {
		t.Fatalf("duplicate POST = %d %+v, want TaskId %s", status, again, r.TaskID)
	}
	// Another key is another task.
	other := validRequest()
	other.Key = "dir/b.bin"
	if _, r2 := postJSON(t, base, other, testPub, testPriv); r2.TaskID == "" || r2.TaskID == r.TaskID {
		t.Fatalf("second task = %+v", r2)
	}
	if n := fetchCounts(t, db); n != 2 || queued != 2 {
		t.Fatalf("tasks = %d, OnQueued calls = %d; want 2, 2", n, queued)
	}
	// POST /fetch (no slash) and a Content-MD5 that matches work too.
	third := validRequest()
	third.Key = "c"
	body, _ := json.Marshal(third)
	sum := md5.Sum(body)
	req, _ := http.NewRequest(http.MethodPost, base+"/fetch", bytes.NewReader(body))
	req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	SignRequest(req, testPub, testPriv)
	if status, r3 := doJSON(t, req); status != http.StatusOK || r3.TaskID == "" {
		t.Fatalf("POST /fetch with Content-MD5 = %d %+v", status, r3)
	}
}

func TestHandler_refusals(t *testing.T) {
	db := openDB(t)
	jobs := testJobs(t, nil)
	strict := testJobs(t, func(j *Job) { j.ID, j.AllowPrivateURLs = "strict", false })
	jobs["strict"] = strict["strict"]
	base := startHandler(t, db, jobs, HandlerOptions{})
	with := func(mod func(*Request)) Request {
		r := validRequest()
		mod(&r)
		return r
	}
	cases := []struct {
		name       string
		body       any
		pub, priv  string
		status     int
		code       int
		msgContain string
	}{
		{"missing Authorization", validRequest(), "", "", 401, RetBadAuth, "Authorization"},
		{"wrong signature", validRequest(), testPub, "not-the-key", 403, RetBadSignature, "signature"},
		{"unknown public key", validRequest(), "nobody", testPriv, 403, RetUnknownKey, "unknown public key"},
		{"malformed JSON", []byte(`{"Url": "http://x/",`), testPub, testPriv, 400, RetMalformed, "malformed JSON"},
		{"not an object", []byte(`["Url"]`), testPub, testPriv, 400, RetMalformed, "malformed JSON"},
		{"wrong type", []byte(`{"Url": 7}`), testPub, testPriv, 400, RetMalformed, "malformed JSON"},
		{"empty body", []byte(``), testPub, testPriv, 400, RetMalformed, "malformed JSON"},
		{"missing fields", Request{URL: "http://127.0.0.1/x"}, testPub, testPriv, 400, RetMissingField, "Bucket, Key, JobId"},
		{"missing Url", with(func(r *Request) { r.URL = "" }), testPub, testPriv, 400, RetMissingField, "Url"},
		{"unknown JobId", with(func(r *Request) { r.JobID = "no-such-job" }), testPub, testPriv, 404, RetUnknownJob, "no-such-job"},
		{"bucket not allowed", with(func(r *Request) { r.Bucket = "bucket-c" }), testPub, testPriv, 403, RetBucketForbidden, "bucket-c"},
		{"bucket with slash", with(func(r *Request) { r.Bucket = "bucket-a/x" }), testPub, testPriv, 403, RetBucketForbidden, "not allowed"},
		{"ftp Url", with(func(r *Request) { r.URL = "ftp://example.com/x" }), testPub, testPriv, 400, RetBadField, "scheme"},
		{"private Url", with(func(r *Request) { r.JobID, r.URL = "strict", "http://169.254.169.254/latest" }), testPub, testPriv, 403, RetURLRefused, "link-local"},
		{"shared-address Url", with(func(r *Request) { r.JobID, r.URL = "strict", "http://100.64.0.1/" }), testPub, testPriv, 403, RetURLRefused, "100.64.0.0/10"},
		{"NAT64 Url", with(func(r *Request) { r.JobID, r.URL = "strict", "http://[64:ff9b::7f00:1]/" }), testPub, testPriv, 403, RetURLRefused, "127.0.0.1"},
		{"6to4 Url", with(func(r *Request) { r.JobID, r.URL = "strict", "http://[2002:7f00:1::]/" }), testPub, testPriv, 403, RetURLRefused, "127.0.0.1"},
		{"short IPv4 Url", with(func(r *Request) { r.JobID, r.URL = "strict", "http://127.1/" }), testPub, testPriv, 403, RetURLRefused, "127.0.0.1"},
		{"localhost Url", with(func(r *Request) { r.JobID, r.URL = "strict", "http://foo.localhost/" }), testPub, testPriv, 403, RetURLRefused, "loopback"},
		{"bad callback", with(func(r *Request) { r.SuccessCallbackURL = "/relative" }), testPub, testPriv, 400, RetBadField, "SuccessCallbackUrl"},
		{"long key", with(func(r *Request) { r.Key = strings.Repeat("k", 1025) }), testPub, testPriv, 400, RetBadField, "Key"},
		{"10 MB body", bytes.Repeat([]byte(" "), 10<<20), testPub, testPriv, 413, RetTooLarge, "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, r := postJSON(t, base, c.body, c.pub, c.priv)
			if status != c.status || r.RetCode != c.code || r.TaskID != "" || !strings.Contains(r.ErrMsg, c.msgContain) {
				t.Fatalf("got %d %+v; want %d RetCode %d with %q", status, r, c.status, c.code, c.msgContain)
			}
			if strings.Contains(r.ErrMsg, testPriv) || strings.Contains(r.ErrMsg, "not-the-key") {
				t.Fatalf("ErrMsg echoes a key: %q", r.ErrMsg)
			}
			if n := fetchCounts(t, db); n != 0 {
				t.Fatalf("%d tasks queued after a refusal", n)
			}
		})
	}
	// A malformed Authorization and a Content-MD5 that does not match.
	body, _ := json.Marshal(validRequest())
	req, _ := http.NewRequest(http.MethodPost, base+"/fetch/", bytes.NewReader(body))
	req.Header.Set("Authorization", "UCloud "+testPub)
	if status, r := doJSON(t, req); status != 401 || r.RetCode != RetBadAuth {
		t.Fatalf("malformed Authorization = %d %+v", status, r)
	}
	req, _ = http.NewRequest(http.MethodPost, base+"/fetch/", bytes.NewReader(body))
	req.Header.Set("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==")
	SignRequest(req, testPub, testPriv)
	if status, r := doJSON(t, req); status != 400 || r.RetCode != RetBadField {
		t.Fatalf("Content-MD5 mismatch = %d %+v", status, r)
	}
	req, _ = http.NewRequest(http.MethodDelete, base+"/fetch/", nil)
	if status, r := doJSON(t, req); status != 405 || r.RetCode != RetMethod {
		t.Fatalf("DELETE /fetch/ = %d %+v", status, r)
	}
	if n := fetchCounts(t, db); n != 0 {
		t.Fatalf("%d tasks queued after refusals", n)
	}
}

func TestHandler_queueFull(t *testing.T) {
	db := openDB(t)
	base := startHandler(t, db, testJobs(t, func(j *Job) { j.MaxQueue = 2 }), HandlerOptions{})
	for i := range 2 {
		r := validRequest()
		r.Key = fmt.Sprint(i)
		if status, resp := postJSON(t, base, r, testPub, testPriv); status != 200 {
			t.Fatalf("POST %d = %d %+v", i, status, resp)
		}
	}
	r := validRequest()
	r.Key = "third"
	status, resp := postJSON(t, base, r, testPub, testPriv)
	if status != http.StatusTooManyRequests || resp.RetCode != RetQueueFull || resp.TaskID != "" {
		t.Fatalf("third POST = %d %+v; want 429", status, resp)
	}
	if n := fetchCounts(t, db); n != 2 {
		t.Fatalf("tasks = %d, want 2", n)
	}
	// The global limit applies across jobs.
	db2 := openDB(t)
	base2 := startHandler(t, db2, testJobs(t, nil), HandlerOptions{MaxQueue: 1})
	postJSON(t, base2, validRequest(), testPub, testPriv)
	if status, resp := postJSON(t, base2, r, testPub, testPriv); status != 429 || resp.RetCode != RetQueueFull {
		t.Fatalf("global limit: %d %+v", status, resp)
	}
}

func TestHandler_status(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	base := startHandler(t, db, testJobs(t, nil), HandlerOptions{})
	_, r := postJSON(t, base, validRequest(), testPub, testPriv)
	get := func(id, pub, priv string) (int, Status) {
		req, _ := http.NewRequest(http.MethodGet, base+"/fetch/"+id, nil)
		if pub != "" {
			SignRequest(req, pub, priv)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var s Status
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("GET answer %s", b)
		}
		return resp.StatusCode, s
	}
	status, s := get(r.TaskID, testPub, testPriv)
	if status != 200 || s.State != "pending" || s.TaskID != r.TaskID || s.Key != "dir/a.bin" || s.Callback.State != "none" {
		t.Fatalf("GET pending = %d %+v", status, s)
	}
	// Done: the success callback's fields appear.
	if _, err := db.LeaseFetchTasks(ctx, "ag", 1, s.CreatedAt, 60e9); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishFetchTask(ctx, r.TaskID, "ag", catalog.FetchOutcome{OK: true, ETag: "E", SHA1: "abc", Size: 9}, s.CreatedAt); err != nil {
		t.Fatal(err)
	}
	status, s = get(r.TaskID, testPub, testPriv)
	if status != 200 || s.State != "done" || s.ETag != "E" || s.SHA1 != "abc" || s.Size != 9 || s.Attempts != 1 ||
		s.Callback.State != "pending" || s.Callback.URL != "http://127.0.0.1:2/ok" || s.Finished == nil {
		t.Fatalf("GET done = %d %+v", status, s)
	}
	if status, s := get(r.TaskID, testPub, "wrong"); status != 403 || s.RetCode != RetBadSignature || s.Key != "" {
		t.Fatalf("GET wrong signature = %d %+v", status, s)
	}
	if status, s := get(r.TaskID, "", ""); status != 401 || s.RetCode != RetBadAuth {
		t.Fatalf("GET unsigned = %d %+v", status, s)
	}
	if status, s := get("no-such-task", testPub, testPriv); status != 404 || s.RetCode != RetUnknownTask {
		t.Fatalf("GET unknown = %d %+v", status, s)
	}
}

// Concurrent identical and distinct POSTs: every distinct request gets one
// task, identical ones share it.
func TestHandler_concurrentPosts(t *testing.T) {
	db := openDB(t)
	base := startHandler(t, db, testJobs(t, nil), HandlerOptions{})
	var mu sync.Mutex
	ids := map[string]map[string]bool{}
	var wg sync.WaitGroup
	for c := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				r := validRequest()
				r.Key = fmt.Sprintf("k%d", (c*10+i)%100) // each key twice
				status, resp := postJSON(t, base, r, testPub, testPriv)
				if status != 200 {
					t.Errorf("POST = %d %+v", status, resp)
					return
				}
				mu.Lock()
				if ids[r.Key] == nil {
					ids[r.Key] = map[string]bool{}
				}
				ids[r.Key][resp.TaskID] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(ids) != 100 {
		t.Fatalf("%d keys answered, want 100", len(ids))
	}
	for k, set := range ids {
		if len(set) != 1 {
			t.Fatalf("key %s got TaskIds %v", k, set)
		}
	}
	if n := fetchCounts(t, db); n != 100 {
		t.Fatalf("tasks = %d, want 100", n)
	}
}

// Callback URLs go through the URL policy: a job that does not allow
// private callbacks refuses literal private and metadata targets.
func TestHandler_post_callbackPolicy(t *testing.T) {
	db := openDB(t)
	jobs := testJobs(t, func(j *Job) { j.AllowPrivateCallbacks = false })
	base := startHandler(t, db, jobs, HandlerOptions{})
	for _, cb := range []string{"http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://127.0.0.1:9/x",
		"http://[::1]/", "http://100.100.100.200/", "http://localhost/"} {
		for _, field := range []string{"SuccessCallbackUrl", "FailureCallbackUrl"} {
			r := Request{URL: "https://origin.example/a.bin", Bucket: "bucket-a", Key: "k", JobID: testJob}
			if field == "SuccessCallbackUrl" {
				r.SuccessCallbackURL = cb
			} else {
				r.FailureCallbackURL = cb
			}
			status, resp := postJSON(t, base, r, testPub, testPriv)
			if status != http.StatusForbidden || resp.RetCode != RetURLRefused || !strings.Contains(resp.ErrMsg, field) {
				t.Errorf("%s %s = %d %+v; want 403 RetURLRefused naming the field", field, cb, status, resp)
			}
		}
	}
	if n := fetchCounts(t, db); n != 0 {
		t.Fatalf("%d tasks queued with refused callbacks", n)
	}
}

// A request that is not signed with a key of the job learns nothing about
// whether the JobId (or TaskId) exists: the answer is the same either way.
func TestHandler_authorize_hidesExistence(t *testing.T) {
	db := openDB(t)
	base := startHandler(t, db, testJobs(t, nil), HandlerOptions{})
	_, queued := postJSON(t, base, validRequest(), testPub, testPriv)
	if queued.TaskID == "" {
		t.Fatalf("setup POST = %+v", queued)
	}
	unknown := validRequest()
	unknown.JobID = "no-such-job"
	for _, c := range []struct{ name, pub, priv string }{
		{"wrong signature", testPub, "not-the-key"}, {"unknown key", "nobody", "x"},
	} {
		s1, r1 := postJSON(t, base, validRequest(), c.pub, c.priv)
		s2, r2 := postJSON(t, base, unknown, c.pub, c.priv)
		if s1 != s2 || r1 != r2 || s1/100 != 4 {
			t.Errorf("%s: existing job %d %+v, unknown job %d %+v; want the same refusal", c.name, s1, r1, s2, r2)
		}
		g1, a1 := getStatus(t, base, queued.TaskID, c.pub, c.priv)
		g2, a2 := getStatus(t, base, "no-such-task", c.pub, c.priv)
		if g1 != g2 || a1 != a2 || g1/100 != 4 {
			t.Errorf("%s: GET existing task %d %+v, unknown task %d %+v; want the same refusal", c.name, g1, a1, g2, a2)
		}
	}
}

// getStatus sends a signed GET /fetch/{id} and decodes the answer's RetCode
// and ErrMsg.
func getStatus(t testing.TB, base, id, pub, priv string) (int, Response) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/fetch/"+id, nil)
	req.Header.Set("Date", "Thu, 01 Jan 2026 00:00:00 GMT")
	if pub != "" {
		SignRequest(req, pub, priv)
	}
	return doJSON(t, req)
}
