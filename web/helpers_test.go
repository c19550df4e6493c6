package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/agent/agenttest"
	"github.com/ferry-project/ferry/agent/sources"
	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/web"
)

const (
	adminTok   = "web-admin-token"
	clusterTok = "web-cluster-token"
	viewerTok  = "web-viewer-token"
	// evil is a user-controlled string that must appear as text.
	evil = `<img src=x onerror=alert(1)>`
)

// env is a real master (SQLite file, local opener) with the console
// mounted, served on loopback, with a clock the test can move.
type env struct {
	srv     *httptest.Server
	admin   *agent.Client
	cluster *agent.Client
	skew    atomic.Int64 // added to the console's clock
	dir     string
}

func (e *env) now() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }

func startEnv(t testing.TB) *env { t.Helper(); return startEnvBase(t, "") }

// startEnvBase starts an env whose console is served under base.
func startEnvBase(t testing.TB, base string) *env { t.Helper(); return startEnvWith(t, base, nil) }

// startEnvWith starts an env with con as its console (nil: a new one
// under base).
func startEnvWith(t testing.TB, base string, con *web.Console) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{dir: t.TempDir()}
	db, err := catalog.OpenMaster(ctx, filepath.Join(e.dir, "master.db"), agent.NextRun)
	if err != nil {
		t.Fatal(err)
	}
	if con == nil {
		con, err = web.New(web.Config{Base: base, AdminToken: adminTok, ViewerToken: viewerTok, SessionTTL: time.Hour,
			LeaseTTL: 2 * time.Second, Sample: 200 * time.Millisecond, Now: e.now})
		if err != nil {
			t.Fatal(err)
		}
	}
	srcs, err := sources.New(sources.Config{DB: db, Opener: agenttest.LocalOpener{Drivers: agenttest.Drivers(t)}, Drivers: agenttest.Drivers(t)})
	if err != nil {
		t.Fatal(err)
	}
	m, err := agent.NewMaster(ctx, agent.MasterConfig{DB: db, Opener: agenttest.LocalOpener{Drivers: agenttest.Drivers(t)}, Drivers: agenttest.Drivers(t), AdminToken: adminTok,
		ClusterToken: clusterTok, ViewerToken: viewerTok, LeaseTTL: 2 * time.Second, Heartbeat: 100 * time.Millisecond,
		Mounts: []agent.Mount{srcs.Mount, con.Mount}})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(m)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	go func() { m.Run(runCtx); done <- struct{}{} }()
	go func() { con.Run(runCtx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done; e.srv.Close(); db.Close() })
	e.admin, _ = agent.NewClient(e.srv.URL, adminTok)
	e.cluster, _ = agent.NewClient(e.srv.URL, clusterTok)
	return e
}

// tree writes files under a new directory named name and returns it.
func (e *env) tree(t testing.TB, name string, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(e.dir, name)
	for k, v := range files {
		p := filepath.Join(dir, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runAgent runs a real agent until the test ends.
func (e *env) runAgent(t testing.TB, name string) {
	t.Helper()
	a, err := agent.New(agent.Config{Client: e.cluster, Name: name, Opener: agenttest.LocalOpener{Drivers: agenttest.Drivers(t)},
		CatalogDir: filepath.Join(e.dir, "agent-"+name), Workers: 2, IdleWait: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitJob waits until the job reaches state.
func (e *env) waitJob(t testing.TB, id, state string) agent.JobView {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := e.admin.Job(context.Background(), id)
		if err == nil && j.State == state {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: state %q, want %q (err %v)", id, j.State, state, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	t    testing.TB
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// signIn signs in with tok and keeps the session's CSRF token.
func (e *env) signIn(t testing.TB, tok string) *browser {
	t.Helper()
	b := e.browser(t)
	resp := b.post("/ui/login", url.Values{"token": {tok}, "next": {"/ui/"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	doc := b.page("/ui/", http.StatusOK)
	b.csrf, _ = doc.Find("body").Attr("data-csrf")
	if b.csrf == "" {
		t.Fatal("no CSRF token on the page")
	}
	return b
}

func (b *browser) do(req *http.Request) *http.Response {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (b *browser) get(path string) *http.Response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) *http.Response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// page GETs path, checks the status and parses the HTML.
func (b *browser) page(path string, status int) *goquery.Document {
	b.t.Helper()
	resp := b.get(path)
	return parse(b.t, resp, status)
}

func parse(t testing.TB, resp *http.Response, status int) *goquery.Document {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %.500s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("%s: Content-Type %q, want HTML", resp.Request.URL.Path, ct)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}
