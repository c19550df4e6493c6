package web_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/web"
)

// fixture is a master with a finished job copied by a real agent and a
// failed job whose failure (reported over the agent API) names a key,
// an error and an agent that are HTML.
type fixture struct {
	*env
	done, failed agent.JobView
}

func startFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	e := startEnv(t)
	f := &fixture{env: e}
	src := e.tree(t, "src-"+evil, map[string]string{evil: "x", "a/b.txt": "hello", "c.txt": "world"})
	var err error
	if f.failed, err = e.admin.CreateJob(ctx, agent.JobSpec{Source: src, Dest: e.tree(t, "dst1", nil)}); err != nil {
		t.Fatal(err)
	}
	// The test is the agent of the failed job: one failure per range.
	for {
		l, ok, err := e.cluster.Lease(ctx, "agent-0")
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if _, err := e.cluster.SendReport(ctx, l.ID, agent.ReportRequest{Agent: "agent-0", JobID: l.JobID, RangeID: l.RangeID,
			Cursor: l.End, Failed: 1, Done: true,
			Failures: []agent.FailureView{{Path: evil, Size: 1, Error: "open " + evil + ": denied", RangeID: l.RangeID, Agent: "agent-0", At: time.Now()}}}); err != nil {
			t.Fatal(err)
		}
	}
	f.failed = e.waitJob(t, f.failed.ID, "failed")
	if f.done, err = e.admin.CreateJob(ctx, agent.JobSpec{Source: src, Dest: e.tree(t, "dst2", nil), Schedule: "@every 6h"}); err != nil {
		t.Fatal(err)
	}
	e.runAgent(t, "agent-1")
	f.done = e.waitJob(t, f.done.ID, "done")
	return f
}

// noInjectedHTML fails if a page carries an element or attribute made of
// the evil string, and checks that it shows it as text.
func noInjectedHTML(t *testing.T, path string, doc *goquery.Document, wantText bool) {
	t.Helper()
	if n := doc.Find("img").Length(); n > 0 {
		t.Errorf("%s: %d <img> elements: a user string was rendered as HTML", path, n)
	}
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		if _, ok := s.Attr("onerror"); ok {
			t.Errorf("%s: an element has an onerror attribute", path)
		}
	})
	if wantText && !strings.Contains(doc.Text(), evil) {
		t.Errorf("%s: the string %s is not shown as text", path, evil)
	}
}

func TestPagesRenderAndEscape(t *testing.T) {
	f := startFixture(t)
	for _, tok := range []string{adminTok, viewerTok} {
		b := f.signIn(t, tok)
		pages := []struct {
			path, h1 string
			evil     bool
		}{
			{"/ui/", "Overview", false},
			{"/ui/jobs", "Jobs", true},
			{"/ui/jobs?state=failed&type=migrate&q=" + url.QueryEscape("src-"), "Jobs", true},
			{"/ui/jobs?state=running", "Jobs", false},
			{"/ui/jobs/" + f.failed.ID, "Job", true},
			{"/ui/jobs/" + f.done.ID, "Job", true},
			{"/ui/agents", "Agents", false},
			{"/ui/fetch", "Fetch", false},
			{"/ui/sources", "Sources", false},
		}
		if tok == adminTok {
			pages = append(pages, struct {
				path, h1 string
				evil     bool
			}{"/ui/jobs/new", "New job", false})
		}
		for _, p := range pages {
			doc := b.page(p.path, http.StatusOK)
			if h1 := strings.TrimSpace(doc.Find("h1").First().Text()); !strings.HasPrefix(h1, p.h1) {
				t.Errorf("%s: h1 %q, want %q…", p.path, h1, p.h1)
			}
			noInjectedHTML(t, p.path, doc, p.evil)
			if strings.Contains(doc.Text(), adminTok) || strings.Contains(doc.Text(), clusterTok) {
				t.Errorf("%s shows a token", p.path)
			}
		}
		// The job pages show what the operator needs.
		doc := b.page("/ui/jobs/"+f.failed.ID, http.StatusOK)
		if got := doc.Find("table.failed tbody tr").Length(); got == 0 {
			t.Error("the failed job's page lists no failed objects")
		}
		if got := doc.Find("progress#progress").AttrOr("value", ""); got != "100" {
			t.Errorf("failed job's progress %q, want 100", got)
		}
		doc = b.page("/ui/jobs/"+f.done.ID, http.StatusOK)
		if !strings.Contains(doc.Text(), "@every 6h") || !strings.Contains(doc.Text(), "Next runs") {
			t.Error("the scheduled job's page does not show its schedule and next runs")
		}
		adminButtons := doc.Find(`form[action$="/delete"]`).Length()
		if (tok == adminTok) != (adminButtons == 1) {
			t.Errorf("%s session: %d delete buttons", tok, adminButtons)
		}
		doc = b.page("/ui/agents", http.StatusOK)
		if doc.Find("tr.agent").Length() != 2 {
			t.Errorf("agents page: %d agents, want 2", doc.Find("tr.agent").Length())
		}
		// An unknown job and an unknown page are pages in words.
		doc = b.page("/ui/jobs/job-nope", http.StatusNotFound)
		if !strings.Contains(doc.Find(".error").Text(), "nknown job") {
			t.Errorf("unknown job: %q", doc.Find(".error").Text())
		}
		b.page("/ui/nothing-here", http.StatusNotFound)
	}
}

func TestEmptyStatesSayWhatNext(t *testing.T) {
	e := startEnv(t)
	b := e.signIn(t, adminTok)
	for path, want := range map[string]string{
		"/ui/jobs":   "Create the first job",
		"/ui/agents": "ferry migrate run",
		"/ui/fetch":  "ferry job create --type fetch",
		"/ui/":       "Create a job",
	} {
		if got := b.page(path, http.StatusOK).Find(".empty").Text(); !strings.Contains(got, want) {
			t.Errorf("%s: empty state %q, want %q", path, got, want)
		}
	}
}

func TestDownloadsAndEvents(t *testing.T) {
	f := startFixture(t)
	b := f.signIn(t, viewerTok)
	for path, want := range map[string]string{
		"/ui/jobs/" + f.failed.ID + "/failed.csv":         "path,size,error",
		"/ui/jobs/" + f.failed.ID + "/report?format=html": "<html",
		"/ui/jobs/" + f.failed.ID + "/report?format=md":   "#",
		"/ui/jobs/" + f.failed.ID + "/report?format=csv":  ",",
	} {
		resp := b.get(path)
		var sb strings.Builder
		_, _ = bufio.NewReader(resp.Body).WriteTo(&sb)
		if resp.StatusCode != http.StatusOK || !strings.Contains(sb.String(), want) ||
			!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("%s: %d %q %.200q", path, resp.StatusCode, resp.Header.Get("Content-Disposition"), sb.String())
		}
	}
	b.page("/ui/jobs/"+f.failed.ID+"/report?format=pdf", http.StatusBadRequest)
	// A job's live stream sends its state.
	for _, path := range []string{"/ui/jobs/" + f.done.ID + "/events", "/ui/events"} {
		resp := b.get(path)
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("%s: Content-Type %q", path, ct)
		}
		sc := bufio.NewScanner(resp.Body)
		var event, data string
		for sc.Scan() && (event == "" || data == "") {
			if v, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				event = v
			}
			if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				data = v
			}
		}
		resp.Body.Close()
		if (event != "job" && event != "overview") || !strings.Contains(data, `"text"`) {
			t.Errorf("%s: event %q data %q", path, event, data)
		}
	}
	// The schedule preview explains a bad cron and lists three runs.
	for s, want := range map[string]string{"*/5 * * * *": `"runs":[`, "61 * * * *": `"error"`} {
		resp := b.get("/ui/schedule?s=" + url.QueryEscape(s))
		var sb strings.Builder
		_, _ = bufio.NewReader(resp.Body).WriteTo(&sb)
		if !strings.Contains(sb.String(), want) || (want == `"runs":[` && strings.Count(sb.String(), "UTC") != 3) {
			t.Errorf("schedule %q: %s", s, sb.String())
		}
	}
}

func TestSignIn(t *testing.T) {
	e := startEnv(t)
	b := e.browser(t)
	// No session: pages send the browser to the sign-in page.
	for _, path := range []string{"/ui/", "/ui/jobs", "/ui/agents", "/ui/jobs/x/report?format=csv", "/ui/events"} {
		resp := b.get(path)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/ui/login?next=") {
			t.Errorf("%s without a session: %d %q", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if resp := b.get("/"); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ui/" {
		t.Errorf("/: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	b.page("/ui/login", http.StatusOK)
	for _, tok := range []string{"", "wrong", clusterTok} {
		doc := parse(t, b.post("/ui/login", url.Values{"token": {tok}}), http.StatusUnauthorized)
		if !strings.Contains(doc.Find(".error").Text(), "neither") {
			t.Errorf("token %q: %q", tok, doc.Find(".error").Text())
		}
	}
	// A session cookie: HttpOnly, SameSite=Strict, expiring; not Secure on plain HTTP.
	resp := b.post("/ui/login", url.Values{"token": {adminTok}, "next": {"https://evil.example/"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/" {
		t.Fatalf("sign in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	ck := resp.Cookies()[0]
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.MaxAge <= 0 || ck.Secure || ck.Path != "/ui/" {
		t.Errorf("cookie %+v", ck)
	}
	if strings.Contains(ck.Value, adminTok) {
		t.Error("the cookie carries the token")
	}
	b.page("/ui/", http.StatusOK)
	// Behind a TLS proxy the cookie is Secure.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/ui/login", strings.NewReader("token="+adminTok))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Proto", "https")
	if ck := b.do(req).Cookies()[0]; !ck.Secure {
		t.Error("cookie not Secure over https")
	}
	// An expired session is refused.
	e.skew.Store(int64(2 * time.Hour))
	if resp := b.get("/ui/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("expired session: %d", resp.StatusCode)
	}
}

func TestMutatingRoutesRefused(t *testing.T) {
	f := startFixture(t)
	id := f.failed.ID
	routes := map[string]url.Values{
		"/ui/jobs":                         {"source": {f.dir}, "dest": {f.dir + "/x"}},
		"/ui/jobs/" + id + "/pause":        nil,
		"/ui/jobs/" + id + "/resume":       nil,
		"/ui/jobs/" + id + "/cancel":       nil,
		"/ui/jobs/" + id + "/retry-failed": nil,
		"/ui/jobs/" + id + "/delete":       nil,
		"/ui/sources":                      {"name": {"s1"}, "uri": {f.dir}},
		"/ui/sources/s1/delete":            nil,
		"/ui/logout":                       nil,
	}
	admin := f.signIn(t, adminTok)
	viewer := f.signIn(t, viewerTok)
	anon := f.browser(t)
	expired := f.signIn(t, adminTok)
	for path, form := range routes {
		with := func(csrf string) url.Values {
			v := url.Values{}
			for k, vs := range form {
				v[k] = vs
			}
			if csrf != "" {
				v.Set("csrf", csrf)
			}
			return v
		}
		parse(t, anon.post(path, with("x")), http.StatusUnauthorized)
		parse(t, admin.post(path, with("")), http.StatusForbidden)
		parse(t, admin.post(path, with("wrong-"+admin.csrf)), http.StatusForbidden)
		parse(t, admin.post(path, with(viewer.csrf)), http.StatusForbidden)
		if path != "/ui/logout" {
			doc := parse(t, viewer.post(path, with(viewer.csrf)), http.StatusForbidden)
			if !strings.Contains(doc.Find(".error").Text(), "viewer token") {
				t.Errorf("viewer on %s: %q", path, doc.Find(".error").Text())
			}
		}
	}
	f.skew.Store(int64(2 * time.Hour))
	parse(t, expired.post("/ui/jobs/"+id+"/pause", url.Values{"csrf": {expired.csrf}}), http.StatusUnauthorized)
	f.skew.Store(0)
	// Nothing changed.
	jobs, err := f.admin.Jobs(context.Background())
	if err != nil || len(jobs) != 2 {
		t.Fatalf("jobs after refusals: %d, %v", len(jobs), err)
	}
	if j, _ := f.admin.Job(context.Background(), id); j.State != "failed" || j.Failed == 0 {
		t.Errorf("failed job after refusals: %s, %d failed", j.State, j.Failed)
	}
	// The viewer token reads the API and changes nothing there either.
	vc, _ := agent.NewClient(f.srv.URL, viewerTok)
	if _, err := vc.Jobs(context.Background()); err != nil {
		t.Errorf("viewer lists jobs: %v", err)
	}
	if _, err := vc.JobAction(context.Background(), id, "pause"); !isStatus(err, http.StatusForbidden) {
		t.Errorf("viewer pauses through the API: %v", err)
	}
}

func TestActions(t *testing.T) {
	f := startFixture(t)
	b := f.signIn(t, adminTok)
	// Retry failed, from the job page's button.
	resp := b.post("/ui/jobs/"+f.failed.ID+"/retry-failed", url.Values{"csrf": {b.csrf}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry: %d", resp.StatusCode)
	}
	doc := b.page(resp.Header.Get("Location"), http.StatusOK)
	if !strings.Contains(doc.Find(".flash").Text(), "Queued") {
		t.Errorf("retry flash %q", doc.Find(".flash").Text())
	}
	f.waitJob(t, f.failed.ID, "done")
	// Pause a finished job: refused by the API, said in words.
	resp = b.post("/ui/jobs/"+f.done.ID+"/pause", url.Values{"csrf": {b.csrf}})
	doc = b.page(resp.Header.Get("Location"), http.StatusOK)
	if !strings.Contains(doc.Find(".flash").Text(), "Could not pause") {
		t.Errorf("pause of a done job: %q", doc.Find(".flash").Text())
	}
	// The form refuses an invalid cron with its reason, keeps the fields
	// and never shows credentials back.
	form := url.Values{"csrf": {b.csrf}, "source": {f.dir + "/src-" + evil}, "dest": {f.tree(t, "dst3", nil)},
		"schedule": {"61 * * * *"}, "credentials": {"AWS_SECRET_ACCESS_KEY=very-secret"}, "workers": {"3"}, "bwlimit": {"10M"}, "skip": {"size"}}
	doc = parse(t, b.post("/ui/jobs", form), http.StatusBadRequest)
	if !strings.Contains(doc.Find(".error").Text(), "61 * * * *") {
		t.Errorf("bad cron: %q", doc.Find(".error").Text())
	}
	if v := doc.Find(`input[name="source"]`).AttrOr("value", ""); v != f.dir+"/src-"+evil {
		t.Errorf("source kept as %q", v)
	}
	if strings.Contains(doc.Text()+doc.Find("textarea").Text(), "very-secret") {
		t.Error("the form shows the credentials back")
	}
	noInjectedHTML(t, "new job form", doc, false)
	// A valid form creates the job and shows it.
	form.Set("schedule", "")
	resp = b.post("/ui/jobs", form)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/ui/jobs/job-") {
		t.Fatalf("create: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	id := strings.TrimPrefix(resp.Header.Get("Location"), "/ui/jobs/")
	j := f.waitJob(t, id, "done")
	if j.Options.Workers != 3 || j.Options.BWLimit != 10<<20 || j.Options.Skip != "size" {
		t.Errorf("created job options %+v", j.Options)
	}
	doc = b.page("/ui/jobs/"+id, http.StatusOK)
	if strings.Contains(doc.Text(), "very-secret") {
		t.Error("the job page shows a credential")
	}
	// Delete, then sign out.
	resp = b.post("/ui/jobs/"+id+"/delete", url.Values{"csrf": {b.csrf}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/jobs" {
		t.Fatalf("delete: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, err := f.admin.Job(context.Background(), id); !isStatus(err, http.StatusNotFound) {
		t.Errorf("deleted job: %v", err)
	}
	if resp := b.post("/ui/logout", url.Values{"csrf": {b.csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp := b.get("/ui/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after sign-out: %d", resp.StatusCode)
	}
}

// isStatus reports whether err is an API answer of status.
func isStatus(err error, status int) bool {
	var ae *agent.APIError
	return errors.As(err, &ae) && ae.Status == status
}

// TestBehindProxyPrefix: with a base, links, redirects and the cookie's
// path carry it (the proxy strips it before the master sees the request).
func TestBehindProxyPrefix(t *testing.T) {
	e := startEnvBase(t, "/ferry/")
	b := e.browser(t)
	if resp := b.get("/"); resp.Header.Get("Location") != "/ferry/ui/" {
		t.Errorf("/ redirects to %q", resp.Header.Get("Location"))
	}
	if resp := b.get("/ui/jobs"); resp.Header.Get("Location") != "/ferry/ui/login?next=%2Fui%2Fjobs" {
		t.Errorf("/ui/jobs redirects to %q", resp.Header.Get("Location"))
	}
	resp := b.post("/ui/login", url.Values{"token": {adminTok}, "next": {"/ui/jobs"}})
	if resp.Header.Get("Location") != "/ferry/ui/jobs" || resp.Cookies()[0].Path != "/ferry/ui/" {
		t.Errorf("sign in: to %q, cookie path %q", resp.Header.Get("Location"), resp.Cookies()[0].Path)
	}
	// The proxy strips the prefix; the cookie came for /ferry/ui/, so send it by hand.
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/ui/jobs", nil)
	req.AddCookie(&http.Cookie{Name: resp.Cookies()[0].Name, Value: resp.Cookies()[0].Value})
	doc := parse(t, b.do(req), http.StatusOK)
	doc.Find("a[href], link[href], script[src], form[action]").Each(func(_ int, s *goquery.Selection) {
		for _, a := range []string{"href", "src", "action"} {
			if v, ok := s.Attr(a); ok && strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "/ferry/ui/") {
				t.Errorf("%s=%q does not start with the base", a, v)
			}
		}
	})
}

// TestShutdownEndsStreams: Shutdown ends a live stream, so the master's
// server can stop.
func TestShutdownEndsStreams(t *testing.T) {
	con, err := web.New(web.Config{AdminToken: adminTok})
	if err != nil {
		t.Fatal(err)
	}
	e := startEnvWith(t, "", con)
	b := e.signIn(t, adminTok)
	resp := b.get("/ui/events")
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, resp.Body); close(done) }()
	con.Shutdown()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end after Shutdown")
	}
}

// TestFailedObjectsPaginate: a job's failed objects come 50 a page, each
// page starting after the last path of the one before.
func TestFailedObjectsPaginate(t *testing.T) {
	e := startEnv(t)
	ctx := context.Background()
	j, err := e.admin.CreateJob(ctx, agent.JobSpec{Source: e.tree(t, "src", map[string]string{"a": "x"}), Dest: e.tree(t, "dst", nil)})
	if err != nil {
		t.Fatal(err)
	}
	l, ok, err := e.cluster.Lease(ctx, "agent-0")
	if err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	var fs []agent.FailureView
	for i := range 120 {
		fs = append(fs, agent.FailureView{Path: fmt.Sprintf("f%03d", i), Error: "denied", RangeID: l.RangeID, At: time.Now()})
	}
	if _, err := e.cluster.SendReport(ctx, l.ID, agent.ReportRequest{Agent: "agent-0", JobID: l.JobID, RangeID: l.RangeID,
		Cursor: l.End, Failed: 120, Failures: fs, Done: true}); err != nil {
		t.Fatal(err)
	}
	e.waitJob(t, j.ID, "failed")
	b := e.signIn(t, viewerTok)
	path := "/ui/jobs/" + j.ID
	var seen []string
	for page := 1; ; page++ {
		doc := b.page(path, http.StatusOK)
		rows := doc.Find("table.failed tbody tr td:first-child")
		rows.Each(func(_ int, s *goquery.Selection) { seen = append(seen, s.Text()) })
		next, ok := doc.Find(`.pager a:contains("next")`).Attr("href")
		if !ok {
			if page != 3 || rows.Length() != 20 {
				t.Errorf("last page %d with %d rows", page, rows.Length())
			}
			break
		}
		if rows.Length() != 50 || page > 3 {
			t.Fatalf("page %d: %d rows", page, rows.Length())
		}
		path = "/ui/jobs/" + j.ID + next
	}
	if len(seen) != 120 || seen[0] != "f000" || seen[119] != "f119" {
		t.Errorf("pages showed %d objects, %v … %v", len(seen), seen[:1], seen[len(seen)-1:])
	}
}

// TestSavedSourcesInTheConsole: save a source with write-only secrets,
// browse it one level at a time, see a failing one explained, and create
// a job from it in the form.
func TestSavedSourcesInTheConsole(t *testing.T) {
	e := startEnv(t)
	src := e.tree(t, "share", map[string]string{"photos/" + evil + ".jpg": "x", "photos/b.jpg": "yy", "top.txt": "z"})
	b := e.signIn(t, adminTok)
	if got := b.page("/ui/sources", http.StatusOK).Find(".empty").Text(); !strings.Contains(got, "Save one below") {
		t.Errorf("empty sources page: %q", got)
	}
	resp := b.post("/ui/sources", url.Values{"csrf": {b.csrf}, "name": {"share"}, "uri": {src}, "region": {"r1"},
		"secrets": {"FERRY_SRC_TOKEN=very-secret"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	doc := b.page("/ui/sources", http.StatusOK)
	if doc.Find("tr.source").Length() != 1 || !strings.Contains(doc.Text(), "FERRY_SRC_TOKEN") || strings.Contains(doc.Text(), "very-secret") {
		t.Errorf("sources page: %q", doc.Find("table").Text())
	}
	if strings.Contains(doc.Find(`textarea[name="secrets"]`).Text(), "very-secret") {
		t.Error("the form shows a secret back")
	}
	// Browse: the root, then a directory; names are text.
	doc = b.page("/ui/sources/share", http.StatusOK)
	if doc.Find(".test-ok").Length() != 1 || doc.Find(`table.browse a:contains("photos/")`).Length() != 1 {
		t.Fatalf("browse root: %q", doc.Find("main").Text())
	}
	doc = b.page("/ui/sources/share?path=photos", http.StatusOK)
	if doc.Find("table.browse tbody tr").Length() != 2 {
		t.Errorf("browse photos: %q", doc.Find("main").Text())
	}
	noInjectedHTML(t, "browse", doc, true)
	doc = b.page("/ui/sources/share?path=nope", http.StatusOK)
	if !strings.Contains(doc.Find(".error").Text(), "The test failed") {
		t.Errorf("missing directory: %q", doc.Find(".error").Text())
	}
	// A bad location is refused in words.
	doc = parse(t, b.post("/ui/sources", url.Values{"csrf": {b.csrf}, "name": {"bad name"}, "uri": {src}}), http.StatusBadRequest)
	if !strings.Contains(doc.Find(".error").Text(), "bad name") {
		t.Errorf("bad name: %q", doc.Find(".error").Text())
	}
	// A job from the saved source: its path inside, the source's secrets.
	doc = b.page("/ui/jobs/new?from=share", http.StatusOK)
	if v := doc.Find(`select[name="from"] option[selected]`).AttrOr("value", ""); v != "share" {
		t.Errorf("form preselects %q", v)
	}
	resp = b.post("/ui/jobs", url.Values{"csrf": {b.csrf}, "from": {"share"}, "source": {"photos"}, "dest": {e.tree(t, "dst", nil)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create from source: %d", resp.StatusCode)
	}
	id := strings.TrimPrefix(resp.Header.Get("Location"), "/ui/jobs/")
	j, err := e.admin.Job(context.Background(), id)
	if err != nil || j.Source != src+"/photos" || j.Options.FromRegion != "r1" {
		t.Errorf("job from source: %+v %v", j, err)
	}
	if strings.Contains(b.page("/ui/jobs/"+id, http.StatusOK).Text(), "very-secret") {
		t.Error("the job page shows a secret")
	}
	// Delete it.
	if resp := b.post("/ui/sources/share/delete", url.Values{"csrf": {b.csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if b.page("/ui/sources", http.StatusOK).Find("tr.source").Length() != 0 {
		t.Error("deleted source still listed")
	}
}
