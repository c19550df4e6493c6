package fetch

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/agent/agenttest"
)

// FuzzParseRequest feeds arbitrary bodies to the POST /fetch/ parser and
// the job checks: never a crash; a parsed request has its required fields
// and survives a JSON round trip; a valid one passes the URL and callback
// policies of its job and names an allowed bucket.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		`{"Url":"https://origin.example/a.mp4","Bucket":"bucket-a","Key":"a.mp4","JobId":"j"}`,
		`{"Url":"http://127.1/","Bucket":"bucket-a","Key":"k","JobId":"j","SuccessCallbackUrl":"http://10.0.0.1/"}`,
		`{"Url":"http://x/","Bucket":"bucket-a","Key":"k","JobId":"j","FailureCallbackUrl":"http://[::1]/"}`,
		`{"Url":7}`, `[]`, `null`, ``, `{"Url":"\u0000","Bucket":" ","Key":"k","JobId":"j"}`,
		`{"Url":"http://a/","Bucket":"bucket-b","Key":"k","JobId":"j","Url":"http://169.254.169.254/"}`,
		`{"Url":"http://a/","Bucket":"../x","Key":"k","JobId":"j"}`, `{"url":"http://a/","bucket":"bucket-a","key":"k","jobid":"j"}`,
	} {
		f.Add([]byte(s))
	}
	job := Job{ID: "j", Dest: "us3://bucket-a", AllowedBuckets: []string{"bucket-a", "bucket-b"}}
	d := agenttest.Drivers(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req, rf := parseRequest(body)
		if rf.status != 0 {
			if rf.status != http.StatusBadRequest || (rf.code != RetMalformed && rf.code != RetMissingField) || req != (Request{}) {
				t.Fatalf("parseRequest(%q) refused with %+v and %+v", body, rf, req)
			}
			return
		}
		for _, v := range []string{req.URL, req.Bucket, req.Key, req.JobID} {
			if strings.TrimSpace(v) == "" {
				t.Fatalf("parseRequest(%q) = %+v with a blank required field", body, req)
			}
		}
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		if again, rf := parseRequest(b); rf.status != 0 || again != req {
			t.Fatalf("round trip of %+v = %+v, %+v", req, again, rf)
		}
		if rf := validate(d, req, job); rf.status == 0 {
			for _, u := range []string{req.URL, req.SuccessCallbackURL, req.FailureCallbackURL} {
				if _, err := (Policy{}).CheckURL(u); u != "" && err != nil {
					t.Fatalf("validate accepted %q, which the policy refuses: %v", u, err)
				}
			}
			if !job.BucketAllowed(d, req.Bucket) || len(req.Key) > maxKeyLen {
				t.Fatalf("validate accepted bucket %q, key of %d bytes", req.Bucket, len(req.Key))
			}
		} else if rf.code == RetURLRefused {
			if !errors.Is(firstRefusal(req), ErrRefused) {
				t.Fatalf("validate refused %+v by policy, but no URL is refused", req)
			}
		}
	})
}

// firstRefusal is the policy's error for the first of req's URLs it
// refuses.
func firstRefusal(req Request) error {
	for _, u := range []string{req.URL, req.SuccessCallbackURL, req.FailureCallbackURL} {
		if _, err := (Policy{}).CheckURL(u); u != "" && errors.Is(err, ErrRefused) {
			return err
		}
	}
	return nil
}
