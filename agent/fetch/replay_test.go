package fetch

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"
)

// replayNow is the handler's clock in the replay tests.
var replayNow = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// signedPost builds a POST /fetch/ of body with the given Date (none when
// zero) and Content-MD5 (when md5), signed with the test key.
func signedPost(t testing.TB, base string, body []byte, date time.Time, withMD5 bool) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/fetch/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if !date.IsZero() {
		req.Header.Set("Date", date.Format(http.TimeFormat))
	}
	if withMD5 {
		sum := md5.Sum(body)
		req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	}
	SignRequest(req, testPub, testPriv)
	return req
}

// replay sends the headers of a captured request again with body.
func replay(t testing.TB, captured *http.Request, body []byte) (int, Response) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, captured.URL.String(), bytes.NewReader(body))
	req.Header = captured.Header.Clone()
	return doJSON(t, req)
}

// By default (the contract's behaviour) a captured Authorization header
// stays valid: replayed with another body, it queues another task. A job
// that rejects replays refuses the same header the second time, whatever
// the body.
func TestHandler_post_rejectReplays(t *testing.T) {
	db := openDB(t)
	jobs := testJobs(t, nil)
	strict := testJobs(t, func(j *Job) { j.ID, j.RejectReplays = "fresh", true })
	jobs["fresh"] = strict["fresh"]
	clock := replayNow
	base := startHandler(t, db, jobs, HandlerOptions{Now: func() time.Time { return clock }})
	body := func(job, key string) []byte {
		r := validRequest()
		r.JobID, r.Key = job, key
		b, _ := json.Marshal(r)
		return b
	}

	// Default job: the same headers with another body are accepted.
	captured := signedPost(t, base, body(testJob, "a"), replayNow, false)
	if status, r := doJSON(t, captured); status != 200 {
		t.Fatalf("first POST = %d %+v", status, r)
	}
	if status, r := replay(t, captured, body(testJob, "b")); status != 200 || r.TaskID == "" {
		t.Fatalf("replay to a default job = %d %+v; the contract accepts it", status, r)
	}

	// The job that rejects replays.
	for _, c := range []struct {
		name   string
		date   time.Time
		md5    bool
		status int
		code   int
	}{
		{"no Date", time.Time{}, true, 403, RetStaleDate},
		{"Date 16 minutes old", replayNow.Add(-16 * time.Minute), true, 403, RetStaleDate},
		{"Date 16 minutes ahead", replayNow.Add(16 * time.Minute), true, 403, RetStaleDate},
		{"no Content-MD5", replayNow, false, 400, RetMissingField},
	} {
		if status, r := doJSON(t, signedPost(t, base, body("fresh", c.name), c.date, c.md5)); status != c.status || r.RetCode != c.code {
			t.Errorf("%s: %d %+v; want %d RetCode %d", c.name, status, r, c.status, c.code)
		}
	}
	req := signedPost(t, base, body("fresh", "x"), replayNow.Add(-14*time.Minute), true)
	status, first := doJSON(t, req)
	if status != 200 || first.TaskID == "" {
		t.Fatalf("fresh POST = %d %+v", status, first)
	}
	// The same request again, and its headers with other bodies.
	if status, r := replay(t, req, body("fresh", "x")); status != 403 || r.RetCode != RetReplayed {
		t.Fatalf("exact replay = %d %+v; want 403 RetReplayed", status, r)
	}
	if status, r := replay(t, req, body("fresh", "y")); status != 400 || r.RetCode != RetBadField {
		t.Fatalf("replay with another body = %d %+v; want the Content-MD5 mismatch", status, r)
	}
	other := body("fresh", "y")
	sum := md5.Sum(other)
	forged := req.Clone(context.Background())
	forged.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	if status, r := replay(t, forged, other); status != 403 || r.RetCode != RetBadSignature {
		t.Fatalf("replay with another body and its MD5 = %d %+v; want a bad signature", status, r)
	}
	// Once the Date has left the window the Date check refuses it.
	clock = replayNow.Add(2 * time.Minute)
	if status, r := replay(t, req, body("fresh", "x")); status != 403 || r.RetCode != RetStaleDate {
		t.Fatalf("replay after the window = %d %+v; want 403 RetStaleDate", status, r)
	}
	// A Submitter signs every POST anew, with Content-MD5 and a fresh Date.
	s := &Submitter{Master: base, Public: testPub, Private: testPriv, Date: func() time.Time { return clock }}
	r := validRequest()
	r.JobID, r.Key = "fresh", "submitted"
	if resp, status, err := s.Post(context.Background(), r); err != nil || status != 200 || resp.TaskID == "" {
		t.Fatalf("Submitter.Post = %d %+v %v", status, resp, err)
	}
}

// GET /fetch/{id} of a job that rejects replays needs a fresh Date, but may
// be repeated (its signature does not cover the TaskId, so one signature
// serves a poll of several tasks).
func TestHandler_get_rejectReplays(t *testing.T) {
	db := openDB(t)
	base := startHandler(t, db, testJobs(t, func(j *Job) { j.RejectReplays = true }),
		HandlerOptions{Now: func() time.Time { return replayNow }})
	s := &Submitter{Master: base, Public: testPub, Private: testPriv, Date: func() time.Time { return replayNow }}
	resp, status, err := s.Post(context.Background(), validRequest())
	if err != nil || status != 200 {
		t.Fatalf("POST = %d %+v %v", status, resp, err)
	}
	for range 2 {
		if st, status, err := s.Status(context.Background(), resp.TaskID); err != nil || status != 200 || st.State != "pending" {
			t.Fatalf("GET = %d %+v %v", status, st, err)
		}
	}
	old := &Submitter{Master: base, Public: testPub, Private: testPriv, Date: func() time.Time { return replayNow.Add(-time.Hour) }}
	if st, status, _ := old.Status(context.Background(), resp.TaskID); status != 403 || st.RetCode != RetStaleDate || st.Key != "" {
		t.Fatalf("GET with an old Date = %d %+v", status, st)
	}
}

func TestReplayCache_remember(t *testing.T) {
	c := newReplayCache(2)
	k := func(b byte) [16]byte { return [16]byte{b} }
	t0 := replayNow
	if err := c.remember(k(1), t0.Add(time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	if err := c.remember(k(1), t0.Add(time.Minute), t0.Add(time.Minute)); !errors.Is(err, errReplayed) {
		t.Fatalf("second use until its expiry = %v, want errReplayed", err)
	}
	if err := c.remember(k(2), t0.Add(2*time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	if err := c.remember(k(3), t0.Add(time.Minute), t0); !errors.Is(err, errReplaysFull) {
		t.Fatalf("a third key in a cache of 2 = %v, want errReplaysFull", err)
	}
	// k(1) expires: its room is free and it may be used again.
	later := t0.Add(time.Minute + time.Nanosecond)
	if err := c.remember(k(3), later.Add(time.Minute), later); err != nil {
		t.Fatalf("after an expiry = %v", err)
	}
	if err := c.remember(k(2), t0.Add(2*time.Minute), later); !errors.Is(err, errReplayed) {
		t.Fatalf("unexpired k(2) = %v, want errReplayed", err)
	}
	if len(c.seen) != 2 || len(c.exp) != 2 {
		t.Fatalf("%d keys, %d expiries; want 2, 2", len(c.seen), len(c.exp))
	}
}
