package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/agent"
)

// TestWebConsoleFlags: ferry master --viewer-token-file and --ui-base. The
// viewer token signs in to the console and reads the API, and changes
// nothing; links, redirects and the cookie carry the base.
func TestWebConsoleFlags(t *testing.T) {
	dir := t.TempDir()
	vf := filepath.Join(dir, "viewer.token")
	if err := os.WriteFile(vf, []byte("e2e-viewer-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := startMasterProc(t, freeAddr(t), filepath.Join(dir, "master.db"), "--viewer-token-file", vf, "--ui-base", "/ferry")
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(m.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ferry/ui/" {
		t.Errorf("/: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = hc.PostForm(m.url+"/ui/login", url.Values{"token": {"e2e-viewer-token"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 || resp.Cookies()[0].Path != "/ferry/ui/" {
		t.Fatalf("viewer sign-in: %d %v", resp.StatusCode, resp.Cookies())
	}
	ck := resp.Cookies()[0]
	req, _ := http.NewRequest(http.MethodGet, m.url+"/ui/jobs", nil)
	req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="/ferry/ui/agents"`) || strings.Contains(body, "/ferry/ui/jobs/new") {
		t.Errorf("viewer's jobs page: %d %.300s", resp.StatusCode, body)
	}
	// The same token on the API: it reads, and is refused any change.
	v, _ := agent.NewClient(m.url, "e2e-viewer-token")
	if _, err := v.Jobs(context.Background()); err != nil {
		t.Errorf("viewer lists jobs: %v", err)
	}
	_, err = v.CreateJob(context.Background(), agent.JobSpec{Source: dir, Dest: filepath.Join(dir, "dst")})
	var ae *agent.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		t.Errorf("viewer creates a job: %v", err)
	}
}
