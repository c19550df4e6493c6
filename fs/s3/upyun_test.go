package s3

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// upyunRecorder answers every request 404 and keeps what was asked: the
// addressing rules of a preset show in the requests' URLs and signatures.
type upyunRecorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *upyunRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	body := `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>no</Message></Error>`
	return &http.Response{StatusCode: http.StatusNotFound, Header: http.Header{"Content-Type": {"application/xml"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req}, nil
}

// TestUpYun_Preset: upyun:// is UpYun's S3 API at https://s3.api.upyun.com,
// path-style, signed for DefaultRegion whatever AWS_REGION says, and a
// session token (which UpYun does not take) is refused.
func TestUpYun_Preset(t *testing.T) {
	c, err := ApplyPreset(Config{Provider: "upyun", Bucket: "pics", Prefix: "2024", Region: "cn-east-1", AccessKey: "op", SecretKey: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint != "https://s3.api.upyun.com" || !c.PathStyle || c.Region != DefaultRegion {
		t.Fatalf("upyun preset = endpoint %q path-style %t region %q", c.Endpoint, c.PathStyle, c.Region)
	}
	if c2, err := ApplyPreset(Config{Provider: "upyun", Bucket: "b", Endpoint: "https://s3.example.net"}); err != nil || c2.Endpoint != "https://s3.example.net" || !c2.PathStyle {
		t.Errorf("upyun with an endpoint override = %q path-style %t, %v", c2.Endpoint, c2.PathStyle, err)
	}
	if _, err := ApplyPreset(Config{Provider: "upyun", Bucket: "b", AccessKey: "op", SecretKey: "pw", SessionToken: "tok"}); err == nil ||
		!strings.Contains(err.Error(), "session token") || strings.Contains(err.Error(), "tok\"") {
		t.Errorf("upyun with a session token: %v, want it refused", err)
	}

	rec := &upyunRecorder{}
	c.HTTPClient = &http.Client{Transport: rec}
	st, err := New(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	_ = st.Check(context.Background())
	_, _ = st.Stat(context.Background(), "a/b.jpg")
	if len(rec.reqs) == 0 {
		t.Fatal("no request sent")
	}
	for _, r := range rec.reqs {
		if r.URL.Scheme != "https" || r.URL.Host != "s3.api.upyun.com" || !strings.HasPrefix(r.URL.Path, "/pics") {
			t.Errorf("request to %s, want https://s3.api.upyun.com/pics… (path style)", r.URL)
		}
		if a := r.Header.Get("Authorization"); !strings.Contains(a, "Credential=op/") || !strings.Contains(a, "/"+DefaultRegion+"/s3/aws4_request") {
			t.Errorf("request %s signed %q, want SigV4 with the operator for %s", r.URL, a, DefaultRegion)
		}
	}
}
