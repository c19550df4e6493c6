package e2e

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-project/ferry/agent"
)

const (
	adminTok   = "e2e-admin-token"
	clusterTok = "e2e-cluster-token"
)

// masterProc is a running `ferry master` process.
type masterProc struct {
	url  string
	addr string
	db   string
	cmd  *exec.Cmd
	api  *agent.Client
	log  string
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startMasterProc runs ferry master on addr with db, short leases and
// quick heartbeats, and waits until it serves.
func startMasterProc(t testing.TB, addr, db string, extra ...string) *masterProc {
	t.Helper()
	return startMasterEnv(t, addr, db, nil, extra...)
}

// startMasterEnv is startMasterProc with the variables vars set (a later
// --lease-ttl or --heartbeat in extra wins).
func startMasterEnv(t testing.TB, addr, db string, vars map[string]string, extra ...string) *masterProc {
	t.Helper()
	args := append([]string{"master", "--listen", addr, "--db", db, "--admin-token", adminTok,
		"--cluster-token", clusterTok, "--lease-ttl", "3s", "--heartbeat", "300ms"}, extra...)
	cmd := exec.Command(bins.ferry, args...)
	cmd.Env = ferryEnv(vars)
	logf, err := os.Create(filepath.Join(t.TempDir(), "master.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	m := &masterProc{url: "http://" + addr, addr: addr, db: db, cmd: cmd, log: logf.Name()}
	t.Cleanup(func() { m.kill(); logf.Close() })
	m.api, _ = agent.NewClient(m.url, adminTok)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := m.api.Jobs(context.Background()); err == nil {
			return m
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("ferry master did not start: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL (kill -9) and reaps the process.
func (m *masterProc) kill() {
	if m.cmd.ProcessState == nil {
		_ = m.cmd.Process.Signal(syscall.SIGKILL)
		_ = m.cmd.Wait()
	}
}

// env is what a `ferry job` command needs to reach the master.
func (m *masterProc) env(vars map[string]string) map[string]string {
	out := map[string]string{"FERRY_MASTER": m.url, "FERRY_TOKEN": adminTok}
	for k, v := range vars {
		out[k] = v
	}
	return out
}

// agentProc is a running `ferry migrate run --master` process.
type agentProc struct {
	name  string
	cmd   *exec.Cmd
	log   string
	state string // FERRY_STATE_DIR: a restart with the same one resumes from its catalogs
}

// startAgent runs an agent with its own state directory (vars may name
// another FERRY_STATE_DIR).
func startAgent(t testing.TB, m *masterProc, name string, vars map[string]string, extra ...string) *agentProc {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"migrate", "run", "--master", m.url, "--token", clusterTok, "--name", name, "--verbose"}, extra...)
	cmd := exec.Command(bins.ferry, args...)
	env := map[string]string{"FERRY_STATE_DIR": filepath.Join(dir, "state")}
	for k, v := range vars {
		env[k] = v
	}
	cmd.Env = ferryEnv(env)
	a := &agentProc{name: name, cmd: cmd, log: filepath.Join(dir, "agent.log"), state: env["FERRY_STATE_DIR"]}
	logf, err := os.Create(a.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.kill(); logf.Close() })
	return a
}

func (a *agentProc) kill() {
	if a.cmd.ProcessState == nil {
		_ = a.cmd.Process.Signal(syscall.SIGKILL)
		_ = a.cmd.Wait()
	}
}

// waitJob polls the API until cond holds; it fails after limit.
func waitJob(t testing.TB, m *masterProc, id, what string, limit time.Duration, cond func(agent.JobView) bool) agent.JobView {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last agent.JobView
	for time.Now().Before(deadline) {
		v, err := m.api.Job(context.Background(), id)
		if err == nil {
			if cond(v) {
				return v
			}
			last = v
		}
		time.Sleep(100 * time.Millisecond)
	}
	last.Ranges = nil
	t.Fatalf("job %s never %s within %v: %+v", id, what, limit, last)
	return last
}

// smallTree writes n small files (100 B – 2 KiB) under dir in subdirectories
// of perDir files and returns their SHA-256 sums by relative path.
func smallTree(t testing.TB, dir, prefix string, n, perDir int, seed uint64) map[string][32]byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 11))
	want := make(map[string][32]byte, n)
	buf := make([]byte, 2048)
	for i := 0; i < n; i++ {
		rel := fmt.Sprintf("%s/g%03d/obj-%06d.bin", prefix, i/perDir, i)
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if i%perDir == 0 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		data := buf[:100+rng.IntN(len(buf)-100)]
		fillRandom(rng, data)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		want[rel] = sha256.Sum256(data)
	}
	return want
}

// createJob runs `ferry job create` and returns the ID it printed.
func createJob(t testing.TB, m *masterProc, vars map[string]string, args ...string) string {
	t.Helper()
	r := mustFerry(t, m.env(vars), append([]string{"job", "create"}, args...)...)
	id := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(id, "job-") || strings.ContainsAny(id, " \n") {
		t.Fatalf("job create printed %q, want the job ID alone", r.stdout)
	}
	return id
}

// showJSON runs `ferry job show JOB --json` (flags after the argument).
func showJSON(t testing.TB, m *masterProc, id string) agent.JobView {
	t.Helper()
	r := mustFerry(t, nil, "job", "show", id, "--master", m.url, "--token", adminTok, "--json")
	var v agent.JobView
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("job show --json printed %q: %v", r.stdout, err)
	}
	var raw map[string]any
	_ = json.Unmarshal([]byte(r.stdout), &raw)
	if _, ok := raw["state"]; !ok {
		t.Fatalf("job show --json has no state field: %s", r.stdout)
	}
	return v
}

// agentLines counts the "range … done" lines of an agent's log.
func agentRanges(t testing.TB, a *agentProc) int {
	t.Helper()
	f, err := os.Open(a.log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "ferry agent "+a.name+": job ") && strings.Contains(sc.Text(), " done: ") {
			n++
		}
	}
	return n
}

// succeededPuts is how many objects the emulator stored with one request.
func succeededPuts(t testing.TB, e *emu) int64 {
	t.Helper()
	s := e.stats(t)
	return s.Succeeded["PutFile"] + s.Succeeded["PostFile"]
}

// metricValue reads one sample of the master's /metrics.
func metricValue(t testing.TB, m *masterProc, name string) string {
	t.Helper()
	r := mustCurl(t, m.url+"/metrics")
	for _, line := range strings.Split(r, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	t.Fatalf("/metrics has no %s:\n%s", name, r)
	return ""
}

// mustCurl GETs url and returns the body.
func mustCurl(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	return string(b)
}

// TestMaster_ThreeAgents: three agents share one 20,000-object job; every
// object reaches the destination exactly once, verified, and every agent
// worked on ranges of it.
func TestMaster_ThreeAgents(t *testing.T) {
	src := t.TempDir()
	want := smallTree(t, src, "data", 20000, 1000, 21)
	e := startEmu(t, "dst")
	m := startMasterProc(t, freeAddr(t), filepath.Join(t.TempDir(), "master.db"))
	id := createJob(t, m, e.env(), "--from", src, "--to", "us3://dst/three/", "--workers", "16")
	if v := showJSON(t, m, id); v.State != "pending" || v.RangesTotal < 3 {
		t.Fatalf("new job = %+v", v)
	}
	var agents []*agentProc
	for _, name := range []string{"a1", "a2", "a3"} {
		agents = append(agents, startAgent(t, m, name, nil))
	}
	waitJob(t, m, id, "done", 3*time.Minute, func(v agent.JobView) bool { return v.State == "done" })
	v := showJSON(t, m, id)
	if v.Copied != 20000 || v.Failed != 0 || v.Objects != 20000 {
		t.Fatalf("finished job = %d copied, %d failed, %d objects", v.Copied, v.Failed, v.Objects)
	}
	// Each object was stored by exactly one successful request, and its
	// ETag verified from that answer: no second copy, no extra request.
	if n := succeededPuts(t, e); n != 20000 {
		t.Fatalf("the emulator stored %d objects, want exactly 20000", n)
	}
	byAgent := map[string]int{}
	for _, r := range v.Ranges {
		byAgent[r.Agent]++
	}
	for _, a := range agents {
		if byAgent[a.name] == 0 || agentRanges(t, a) == 0 {
			t.Fatalf("agent %s finished no range (ranges per agent %v)", a.name, byAgent)
		}
	}
	got := e.readBack(t, "dst", "three/")
	compareSums(t, "US3 after three agents", want, got)
}

// TestMaster_KillAgent: kill -9 two of three agents mid-job. One is
// restarted under its name and state directory: it takes back the range it
// held and resumes it from its own catalog. The other stays dead: its lease
// expires and the survivors resume its range from the reported cursor. The
// job completes with every object present and intact.
func TestMaster_KillAgent(t *testing.T) {
	src := t.TempDir()
	want := smallTree(t, src, "k", 8000, 500, 22)
	e := startEmu(t, "dst")
	m := startMasterProc(t, freeAddr(t), filepath.Join(t.TempDir(), "master.db"), "--ranges", "16")
	id := createJob(t, m, e.env(), "--from", src, "--to", "us3://dst/", "--workers", "8", "--bwlimit", "256KiB")
	agents := map[string]*agentProc{}
	for _, name := range []string{"k1", "k2", "k3"} {
		agents[name] = startAgent(t, m, name, nil)
	}
	held := map[string]int{}
	waitJob(t, m, id, "half-way", time.Minute, func(v agent.JobView) bool {
		clear(held)
		for _, r := range v.Ranges {
			if r.State == "leased" && r.Copied > 0 {
				held[r.Agent] = r.ID
			}
		}
		return v.Copied >= 2000 && held["k2"] > 0 && held["k3"] > 0
	})
	agents["k2"].kill()
	agents["k3"].kill()
	restarted := startAgent(t, m, "k2", map[string]string{"FERRY_STATE_DIR": agents["k2"].state})
	v := waitJob(t, m, id, "done", 3*time.Minute, func(v agent.JobView) bool { return v.State == "done" })
	compareSums(t, "US3 after kill -9 of agents", want, e.readBack(t, "dst", ""))
	if n := succeededPuts(t, e); n < 8000 || n > 8000+200 {
		t.Fatalf("the emulator stored %d objects for 8000: copies twice must be rare", n)
	}
	if metricValue(t, m, "ferry_lease_expiries_total") == "0" {
		t.Fatalf("the dead agent's lease never expired; ranges: %+v", v.Ranges)
	}
	for _, r := range v.Ranges {
		if r.ID == held["k3"] && (r.Agent == "k3" || r.Leases < 2) {
			t.Fatalf("the dead agent's range was not taken over: %+v", r)
		}
	}
	log, _ := os.ReadFile(restarted.log)
	_, after, _ := strings.Cut(string(log), `msg="range leased"`)
	first, _, _ := strings.Cut(after, "\n")
	if !strings.Contains(first, fmt.Sprintf("job=%s range=%d start=", id, held["k2"])) {
		t.Fatalf("the restarted agent's first lease is %q, want its old range %d back", first, held["k2"])
	}
	if v.Failed != 0 {
		t.Fatalf("%d objects failed", v.Failed)
	}
}

// TestMaster_KillMaster: kill -9 the master mid-job and restart it on the
// same catalog: jobs and counters are where they were, the agents copied on
// meanwhile, and the job completes.
func TestMaster_KillMaster(t *testing.T) {
	src := t.TempDir()
	want := smallTree(t, src, "m", 8000, 500, 23)
	e := startEmu(t, "dst")
	// Few, large ranges: an agent keeps copying its leased range through
	// the outage (it needs the master only to take the next one).
	addr, db := freeAddr(t), filepath.Join(t.TempDir(), "master.db")
	m := startMasterProc(t, addr, db, "--ranges", "4")
	id := createJob(t, m, e.env(), "--from", src, "--to", "us3://dst/", "--workers", "8", "--bwlimit", "512KiB")
	startAgent(t, m, "m1", nil)
	startAgent(t, m, "m2", nil)
	before := waitJob(t, m, id, "under way", time.Minute, func(v agent.JobView) bool { return v.Copied >= 600 })
	m.kill()
	down := succeededPuts(t, e)
	deadline := time.Now().Add(time.Minute)
	for succeededPuts(t, e) < down+300 {
		if time.Now().After(deadline) {
			t.Fatal("the agents stopped copying while the master was down")
		}
		time.Sleep(50 * time.Millisecond)
	}

	m = startMasterProc(t, addr, db, "--ranges", "4")
	after, err := m.api.Job(context.Background(), id)
	if err != nil {
		t.Fatalf("the restarted master lost the job: %v", err)
	}
	if after.Copied < before.Copied || after.RangesDone < before.RangesDone || after.State != "running" {
		t.Fatalf("after restart: %d copied, %d ranges done, %s; before the kill: %d, %d", after.Copied, after.RangesDone, after.State, before.Copied, before.RangesDone)
	}
	v := waitJob(t, m, id, "done", 3*time.Minute, func(v agent.JobView) bool { return v.State == "done" })
	compareSums(t, "US3 after kill -9 of the master", want, e.readBack(t, "dst", ""))
	if n := succeededPuts(t, e); n != 8000 {
		t.Fatalf("the emulator stored %d objects for 8000", n)
	}
	if v.Copied != 8000 {
		t.Fatalf("the job counted %d copies for 8000 objects", v.Copied)
	}
	if got := metricValue(t, m, "ferry_lease_expiries_total"); got != "0" {
		t.Fatalf("%s leases expired: the restarted master should keep the agents' leases", got)
	}
}

// TestMaster_ScheduledSync: a job on a schedule, from MinIO into the US3
// emulator, re-runs as an incremental sync: the objects added at the source
// after its first run are copied, and only those.
func TestMaster_ScheduledSync(t *testing.T) {
	mi, e, m, id, want := startScheduledSync(t, 300, 100, 24)
	startAgent(t, m, "s1", nil)
	v := waitJob(t, m, id, "done once", time.Minute, func(v agent.JobView) bool { return len(v.Runs) >= 1 })
	if v.Runs[0].Copied != 300 || v.NextRun == nil {
		t.Fatalf("first run = %+v, next run %v", v.Runs[0], v.NextRun)
	}
	if n := succeededPuts(t, e); n != 300 {
		t.Fatalf("first run stored %d objects, want 300", n)
	}

	added := t.TempDir()
	for k, sum := range smallTree(t, added, "s", 25, 25, 25) {
		k = strings.Replace(k, "/g000/obj-", "/new/obj-", 1)
		want[k] = sum
	}
	if err := os.Rename(filepath.Join(added, "s", "g000"), filepath.Join(added, "s", "new")); err != nil {
		t.Fatal(err)
	}
	uploadTreeS3(t, mi.Client(), "src", "", added)
	runs := 0
	waitJob(t, m, id, "copied the new objects", 2*time.Minute, func(v agent.JobView) bool {
		var copied int64
		for _, r := range v.Runs[min(1, len(v.Runs)):] {
			copied += r.Copied
		}
		runs = len(v.Runs)
		return copied == 25 && v.State == "done"
	})
	// One more run over the unchanged source copies nothing.
	v = waitJob(t, m, id, "run once more", time.Minute, func(v agent.JobView) bool { return len(v.Runs) > runs })
	if last := v.Runs[len(v.Runs)-1]; last.Copied != 0 || last.Unchanged != 325 {
		t.Fatalf("a run over an unchanged source = %+v, want 0 copied, 325 unchanged", last)
	}
	if n := succeededPuts(t, e); n != 325 {
		t.Fatalf("the emulator stored %d objects in all, want 300 + the 25 new ones", n)
	}
	compareSums(t, "US3 after scheduled runs", want, e.readBack(t, "dst", "mirror/"))
}

// TestMaster_BadInput: unknown job, wrong token, malformed JSON, an invalid
// cron expression and a source the master cannot list each give a clear
// error, and nothing changes.
func TestMaster_BadInput(t *testing.T) {
	src := t.TempDir()
	smallTree(t, src, "b", 10, 10, 26)
	e := startEmu(t, "dst")
	m := startMasterProc(t, freeAddr(t), filepath.Join(t.TempDir(), "master.db"))
	wrongToken := m.env(nil)
	wrongToken["FERRY_TOKEN"] = "not-the-token"
	for _, c := range []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"unknown job", m.env(nil), []string{"job", "show", "job-000000000000"}, `unknown job "job-000000000000"`},
		{"unknown job action", m.env(nil), []string{"job", "pause", "job-000000000000"}, "unknown job"},
		{"wrong token", wrongToken, []string{"job", "list"}, "invalid token (HTTP 401)"},
		{"cluster token for operators", map[string]string{"FERRY_MASTER": m.url, "FERRY_TOKEN": clusterTok}, []string{"job", "list"}, "needs the admin token"},
		{"invalid cron", m.env(e.env()), []string{"job", "create", "--from", src, "--to", "us3://dst/x", "--schedule", "61 * * * *"}, "minute field: value 61 out of range"},
		{"source the master cannot list", m.env(e.env()), []string{"job", "create", "--from", "us3://nosuchbucket/x", "--to", "us3://dst/x"}, "cannot open source us3://nosuchbucket/x"},
		{"bad destination", m.env(e.env()), []string{"job", "create", "--from", src, "--to", "us3://nosuchbucket/x"}, "cannot open destination"},
		{"no master", nil, []string{"job", "list"}, "needs --master"},
		{"agent without token", nil, []string{"migrate", "run", "--master", m.url}, "needs --token"},
	} {
		r := ferry(t, c.vars, c.args...)
		if r.code == 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want a failure saying %q", c.name, r.code, r.stderr, c.want)
		}
		if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%s: error is not one line: %q", c.name, r.stderr)
		}
	}
	// Malformed JSON straight at the API.
	req, _ := http.NewRequest("POST", m.url+"/api/v1/jobs", strings.NewReader(`{"source": "/x", `))
	req.Header.Set("Authorization", "Bearer "+adminTok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var eb struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&eb)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(eb.Error, "malformed JSON") {
		t.Fatalf("malformed JSON: %d %q", resp.StatusCode, eb.Error)
	}
	// Nothing changed: no job, nothing written.
	r := mustFerry(t, m.env(nil), "job", "list", "--json")
	if strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("jobs after bad input: %s", r.stdout)
	}
	if s := e.stats(t); s.Succeeded["PutFile"] != 0 {
		t.Fatalf("bad input wrote %d objects", s.Succeeded["PutFile"])
	}
}

// TestMaster_ImportReportsRetry: a tasks file makes a job per line (one
// with a file list), agents copy them, the failed list and the reports come
// out in every format (one stored into a bucket), and retry-failed
// finishes the job once the missing file exists.
func TestMaster_ImportReportsRetry(t *testing.T) {
	dir := t.TempDir()
	src1, src2 := filepath.Join(dir, "src1"), filepath.Join(dir, "src2")
	want1 := smallTree(t, src1, "a", 40, 20, 27)
	all2 := smallTree(t, src2, "b", 20, 10, 28)
	list := "b/g000/obj-000003.bin\nb/g001/obj-000012.bin\n\nb/g001/missing.bin\n"
	if err := os.WriteFile(filepath.Join(dir, "list.txt"), []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	dst1, dst2 := filepath.Join(dir, "dst1"), filepath.Join(dir, "dst2")
	tasks := fmt.Sprintf("# source dest [file list]\n%s %s\n%s %s list.txt\n", src1, dst1, src2, dst2)
	if err := os.WriteFile(filepath.Join(dir, "tasks.txt"), []byte(tasks), 0o644); err != nil {
		t.Fatal(err)
	}
	e := startEmu(t, "reports")
	m := startMasterProc(t, freeAddr(t), filepath.Join(t.TempDir(), "master.db"))
	r := mustFerry(t, m.env(nil), "job", "import", filepath.Join(dir, "tasks.txt"))
	ids := strings.Fields(r.stdout)
	if len(ids) != 2 {
		t.Fatalf("job import printed %q, want two IDs", r.stdout)
	}
	startAgent(t, m, "i1", nil)
	waitJob(t, m, ids[0], "done", time.Minute, func(v agent.JobView) bool { return v.State == "done" })
	v := waitJob(t, m, ids[1], "failed", time.Minute, func(v agent.JobView) bool { return v.State == "failed" })
	compareSums(t, "first task", want1, hashDir(t, dst1))
	if v.Copied != 2 || v.Failed != 1 {
		t.Fatalf("file-list job = %d copied, %d failed", v.Copied, v.Failed)
	}

	r = mustFerry(t, m.env(nil), "job", "failed", ids[1], "--csv")
	if !strings.HasPrefix(r.stdout, "path,size,error") || !strings.Contains(r.stdout, "b/g001/missing.bin") {
		t.Fatalf("failed CSV:\n%s", r.stdout)
	}
	r = mustFerry(t, m.env(nil), "job", "report", ids[0], "--format", "csv")
	if !strings.Contains(r.stdout, "kind,range,start") || strings.Count(r.stdout, "\nrange,") < 1 {
		t.Fatalf("CSV report:\n%s", r.stdout)
	}
	r = mustFerry(t, m.env(nil), "job", "report", ids[1], "--format", "md")
	if !strings.Contains(r.stdout, "# Ferry job "+ids[1]) || !strings.Contains(r.stdout, "| b/g001/missing.bin |") {
		t.Fatalf("Markdown report:\n%s", r.stdout)
	}
	mustFerry(t, m.env(e.env()), "job", "report", ids[1], "--format", "html", "--to", "us3://reports/jobs/"+ids[1]+".html")
	stored := e.readBack(t, "reports", "jobs/")
	if len(stored) != 1 {
		t.Fatalf("reports bucket holds %d objects, want the one report", len(stored))
	}
	var html strings.Builder
	if err := e.sdk(t, "reports").DownloadFile(&html, "jobs/"+ids[1]+".html"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), "<html>") || !strings.Contains(html.String(), "missing.bin") {
		t.Fatalf("stored HTML report:\n%s", html.String())
	}

	// The missing file appears; retry-failed copies just it.
	data := []byte("late arrival")
	if err := os.WriteFile(filepath.Join(src2, "b", "g001", "missing.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	mustFerry(t, m.env(nil), "job", "retry-failed", ids[1])
	waitJob(t, m, ids[1], "done", time.Minute, func(v agent.JobView) bool { return v.State == "done" })
	want2 := map[string][32]byte{
		"b/g000/obj-000003.bin": all2["b/g000/obj-000003.bin"],
		"b/g001/obj-000012.bin": all2["b/g001/obj-000012.bin"],
		"b/g001/missing.bin":    sha256.Sum256(data),
	}
	compareSums(t, "file-list task after retry", want2, hashDir(t, dst2))
	r = mustFerry(t, m.env(nil), "job", "agents")
	if !strings.Contains(r.stdout, "i1") || !strings.Contains(r.stdout, "true") {
		t.Fatalf("job agents:\n%s", r.stdout)
	}
	// A finished job has nothing left to cancel: the master answers 409.
	r = ferry(t, m.env(nil), "job", "cancel", ids[0])
	if r.code != 1 || !strings.Contains(r.stderr, "409") || strings.Contains(r.stdout, "canceled") {
		t.Fatalf("job cancel of a done job: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
