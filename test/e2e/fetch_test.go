package e2e

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/agent/fetch"
	"github.com/ferry-project/ferry/fs/us3"
)

// Tokens and fetch keys of the fetch tests.
const (
	fxAdmin   = "fx-admin-token"
	fxCluster = "fx-cluster-token"
	fxPub     = "fx-fetch-public"
	fxPriv    = "fx-fetch-private"
	fxBucket  = "fetch-dst"
)

// fxMaster is a running `ferry master` process.
type fxMaster struct {
	url, addr, db string
	cmd           *exec.Cmd
	log           string
}

// fxStartMaster runs ferry master on addr with db and quick fetch leases
// and callback retries, and waits until it answers.
func fxStartMaster(t testing.TB, addr, db string) *fxMaster {
	t.Helper()
	m := &fxMaster{url: "http://" + addr, addr: addr, db: db, log: filepath.Join(t.TempDir(), "master.log")}
	m.cmd = exec.Command(bins.ferry, "master", "--listen", addr, "--db", db, "--admin-token", fxAdmin,
		"--cluster-token", fxCluster, "--fetch-lease-ttl", "3s", "--callback-backoff", "200ms", "--quiet")
	m.cmd.Env = ferryEnv(nil)
	logf, err := os.Create(m.log)
	if err != nil {
		t.Fatal(err)
	}
	m.cmd.Stdout, m.cmd.Stderr = logf, logf
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.kill(); logf.Close() })
	admin, err := agent.NewClient(m.url, fxAdmin)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := admin.Jobs(context.Background()); err == nil {
			return m
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(m.log)
			t.Fatalf("ferry master did not start: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL (kill -9) and reaps the process.
func (m *fxMaster) kill() {
	if m.cmd.ProcessState == nil {
		_ = m.cmd.Process.Signal(syscall.SIGKILL)
		_ = m.cmd.Wait()
	}
}

// fxStartAgent runs `ferry migrate run --master` (which also leases fetch
// tasks) with its own state directory.
func fxStartAgent(t testing.TB, m *fxMaster, name string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(bins.ferry, "migrate", "run", "--master", m.url, "--token", fxCluster, "--name", name)
	cmd.Env = ferryEnv(map[string]string{"FERRY_STATE_DIR": filepath.Join(dir, "state")})
	logf, err := os.Create(filepath.Join(dir, "agent.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		logf.Close()
	})
}

// fxCreateJob runs `ferry job create --type fetch` and returns the ID.
func fxCreateJob(t testing.TB, m *fxMaster, e *emu, extra ...string) string {
	t.Helper()
	vars := e.env()
	vars["FERRY_MASTER"], vars["FERRY_TOKEN"] = m.url, fxAdmin
	args := append([]string{"job", "create", "--type", "fetch", "--to", "us3://" + fxBucket, "--fetch-key", fxPub + ":" + fxPriv}, extra...)
	r := mustFerry(t, vars, args...)
	id := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(id, "fetch-") || strings.ContainsAny(id, " \n") {
		t.Fatalf("job create printed %q, want the job ID alone", r.stdout)
	}
	return id
}

// fxOrigin serves generated objects on loopback. Paths: /ok/… (ranges),
// /plain/… (no Range support), /missing/… (404), /reset/… (every
// connection reset).
type fxOrigin struct {
	*httptest.Server
	mu    sync.Mutex
	blobs map[string][]byte
}

func fxStartOrigin(t testing.TB) *fxOrigin {
	t.Helper()
	o := &fxOrigin{blobs: map[string][]byte{}}
	o.Server = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.Close)
	return o
}

// add stores data under path and returns its URL.
func (o *fxOrigin) add(path string, data []byte) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.blobs[path] = data
	return o.URL + path
}

func (o *fxOrigin) serve(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	data, ok := o.blobs[r.URL.Path]
	o.mu.Unlock()
	switch {
	case strings.HasPrefix(r.URL.Path, "/reset/"):
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			conn.Close()
		}
	case !ok:
		http.NotFound(w, r)
	case strings.HasPrefix(r.URL.Path, "/plain/"):
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		if r.Method != http.MethodHead {
			w.Write(data)
		}
	default:
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
	}
}

// fxReceiver records callbacks by TaskId.
type fxReceiver struct {
	mu   sync.Mutex
	ok   map[string]fetch.SuccessCallback
	fail map[string]fetch.FailureCallback
	n    int // deliveries, duplicates included
}

func newFxReceiver() *fxReceiver {
	return &fxReceiver{ok: map[string]fetch.SuccessCallback{}, fail: map[string]fetch.FailureCallback{}}
}

func (rc *fxReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.n++
	var probe struct{ Code int }
	json.Unmarshal(b, &probe)
	if probe.Code == 0 {
		var s fetch.SuccessCallback
		json.Unmarshal(b, &s)
		rc.ok[s.TaskID] = s
	} else {
		var f fetch.FailureCallback
		json.Unmarshal(b, &f)
		rc.fail[f.TaskID] = f
	}
}

// serve listens on addr (e.g. one that was down until now).
func (rc *fxReceiver) serve(t testing.TB, addr string) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rc}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func (rc *fxReceiver) counts() (ok, fail, deliveries int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.ok), len(rc.fail), rc.n
}

// fxWait polls cond until it holds or the patience runs out.
func fxWait(t testing.TB, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fxBytes returns n reproducible pseudo-random bytes.
func fxBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	fillRandom(rand.New(rand.NewPCG(seed, 5)), b)
	return b
}

func fxSHA1(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

// fxStore opens the emulator bucket in-process to read what landed.
func fxStore(t testing.TB, e *emu) *us3.Store {
	t.Helper()
	s, err := us3.New(context.Background(), us3.Config{PublicKey: e.pub, PrivateKey: e.key, Bucket: fxBucket, Endpoint: e.endpoint})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fxSubmitter signs requests with the test key pair.
func fxSubmitter(m *fxMaster) *fetch.Submitter {
	return &fetch.Submitter{Master: m.url, Public: fxPub, Private: fxPriv}
}

// fxTaskTotal is the job's number of tasks, from the admin API.
func fxTaskTotal(t testing.TB, m *fxMaster, job string) int {
	t.Helper()
	admin, err := agent.NewClient(m.url, fxAdmin)
	if err != nil {
		t.Fatal(err)
	}
	v, err := admin.Job(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range v.Fetch.Tasks {
		n += c
	}
	return n
}

// The whole path through the real binaries: accepted POSTs land byte-identical
// with the right callbacks; 404, reset and policy failures are called back;
// refusals queue nothing; a callback receiver that is down is retried
// until it is up; `ferry fetch status` shows the final state.
func TestFetch_EndToEnd(t *testing.T) {
	e := startEmu(t, fxBucket)
	m := fxStartMaster(t, freeAddr(t), filepath.Join(t.TempDir(), "master.db"))
	job := fxCreateJob(t, m, e, "--allow-private-urls", "--allow-private-callbacks")
	strict := fxCreateJob(t, m, e, "--allow-private-callbacks")
	fxStartAgent(t, m, "fx-agent-1")
	fxStartAgent(t, m, "fx-agent-2")
	o := fxStartOrigin(t)
	rc := newFxReceiver()
	cb := rc.serve(t, "127.0.0.1:0")
	vars := map[string]string{"FERRY_MASTER": m.url, "FERRY_FETCH_KEY_PAIR": fxPub + ":" + fxPriv}

	// Successes through the CLI: ranged multipart, range-less, small.
	objects := map[string][]byte{
		"ok/big.bin":     fxBytes(9<<20+123, 1),
		"plain/mid.bin":  fxBytes(5<<20+7, 2),
		"ok/small/a.txt": fxBytes(1500, 3),
	}
	ids := map[string]string{}
	for key, data := range objects {
		r := mustFerry(t, vars, "fetch", "--job", job, o.add("/"+key, data), fxBucket+"/"+key,
			"--success-callback", cb+"/ok", "--failure-callback", cb+"/fail")
		ids[key] = strings.TrimSpace(r.stdout)
	}
	// --from-list posts every line and prints the TaskIds in order.
	list := filepath.Join(t.TempDir(), "list.txt")
	listed := []string{"ok/list/1.bin", "plain/list/2.bin"}
	var lines []string
	for i, key := range listed {
		objects[key] = fxBytes(2000+i, uint64(20+i))
		lines = append(lines, o.add("/"+key, objects[key])+" "+fxBucket+"/"+key)
	}
	if err := os.WriteFile(list, []byte("# fetch list\n"+strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustFerry(t, vars, "fetch", "--job", job, "--from-list", list, "--success-callback", cb+"/ok")
	printed := strings.Fields(r.stdout)
	if len(printed) != len(listed) || printed[0] == printed[1] {
		t.Fatalf("--from-list printed %q, want %d TaskIds", r.stdout, len(listed))
	}
	for i, key := range listed {
		ids[key] = printed[i]
	}
	// A loopback name for a job that does not allow private addresses is
	// refused when posted (no DNS needed to decide it), and queues nothing.
	private := strings.Replace(o.add("/ok/private.bin", []byte("secret")), "127.0.0.1", "localhost", 1)
	if resp, status, err := fxSubmitter(m).Post(context.Background(), fetch.Request{URL: private, Bucket: fxBucket,
		Key: "failed/private", JobID: strict, FailureCallbackURL: cb + "/fail"}); err != nil || status != http.StatusForbidden || resp.TaskID != "" {
		t.Fatalf("POST of a loopback name to a strict job = %d %+v %v, want 403 and no task", status, resp, err)
	}
	if n := fxTaskTotal(t, m, strict); n != 0 {
		t.Fatalf("the strict job holds %d task(s) after its only POST was refused", n)
	}
	// Failures called back: 404 and reset.
	fails := map[string]string{ // URL → job
		o.URL + "/missing/x.bin": job,
		o.URL + "/reset/y.bin":   job,
	}
	failIDs := map[string]string{}
	for u, j := range fails {
		resp, status, err := fxSubmitter(m).Post(context.Background(), fetch.Request{URL: u, Bucket: fxBucket,
			Key: "failed/" + strconv.Itoa(len(failIDs)), JobID: j, SuccessCallbackURL: cb + "/ok", FailureCallbackURL: cb + "/fail"})
		if err != nil || status != 200 || resp.TaskID == "" {
			t.Fatalf("POST %s = %d %+v %v", u, status, resp, err)
		}
		failIDs[u] = resp.TaskID
	}

	fxWait(t, "every callback", 90*time.Second, func() bool {
		ok, fail, _ := rc.counts()
		return ok == len(objects) && fail == len(fails)
	})
	store := fxStore(t, e)
	back := e.readBack(t, fxBucket, "")
	for key, data := range objects {
		got := rc.ok[ids[key]]
		head, err := store.Head(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if got.Code != 0 || got.Key != key || got.SHA1 != fxSHA1(data) || got.Size != int64(len(data)) || got.ETag != head.ETag {
			t.Fatalf("success callback for %s = %+v (destination ETag %s)", key, got, head.ETag)
		}
		if back[key] != sha256.Sum256(data) {
			t.Fatalf("%s is not byte-identical in the emulator", key)
		}
	}
	for u, id := range failIDs {
		f := rc.fail[id]
		if f.Code != 1 || f.Resource != u || f.Message == "" {
			t.Fatalf("failure callback for %s = %+v", u, f)
		}
		var want string
		switch {
		case strings.Contains(u, "/missing/"):
			want = "source returned 404 Not Found"
		default:
			want = "download failed"
		}
		if !strings.Contains(f.Message, want) {
			t.Fatalf("failure message for %s = %q, want %q in it", u, f.Message, want)
		}
	}
	if _, ok := back["failed/private"]; ok {
		t.Fatal("the policy-refused URL was stored")
	}

	// `ferry fetch status` shows the final state and the callback outcome.
	var st fetch.Status
	fxWait(t, "the delivered callback state", 30*time.Second, func() bool {
		r := mustFerry(t, vars, "fetch", "status", ids["ok/big.bin"])
		st = fetch.Status{}
		return json.Unmarshal([]byte(r.stdout), &st) == nil && st.Callback.State == "delivered"
	})
	if st.State != "done" || st.SHA1 != fxSHA1(objects["ok/big.bin"]) || st.Key != "ok/big.bin" {
		t.Fatalf("fetch status = %+v", st)
	}

	fxRefusals(t, m, job, o)
	fxReceiverDownThenUp(t, m, job, o)
}

// fxRefusals: each bad request is refused with its status and RetCode and
// queues nothing.
func fxRefusals(t *testing.T, m *fxMaster, job string, o *fxOrigin) {
	before := fxTaskTotal(t, m, job)
	good := fetch.Request{URL: o.add("/ok/r.bin", []byte("r")), Bucket: fxBucket, Key: "r.bin", JobID: job}
	raw := func(body []byte, pub, priv string) (int, fetch.Response) {
		req, _ := http.NewRequest(http.MethodPost, m.url+"/fetch/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if pub != "" {
			fetch.SignRequest(req, pub, priv)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out fetch.Response
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatalf("refusal is not JSON: %v", err)
		}
		return resp.StatusCode, out
	}
	enc := func(r fetch.Request) []byte { b, _ := json.Marshal(r); return b }
	with := func(mod func(*fetch.Request)) []byte { r := good; mod(&r); return enc(r) }
	for _, c := range []struct {
		name      string
		body      []byte
		pub, priv string
		status    int
		code      int
	}{
		{"wrong signature", enc(good), fxPub, "wrong", 403, fetch.RetBadSignature},
		{"unknown public key", enc(good), "nobody", fxPriv, 403, fetch.RetUnknownKey},
		{"missing Authorization", enc(good), "", "", 401, fetch.RetBadAuth},
		{"malformed JSON", []byte(`{"Url":`), fxPub, fxPriv, 400, fetch.RetMalformed},
		{"missing fields", []byte(`{"Url":"http://x/"}`), fxPub, fxPriv, 400, fetch.RetMissingField},
		{"unknown JobId", with(func(r *fetch.Request) { r.JobID = "fetch-nope" }), fxPub, fxPriv, 404, fetch.RetUnknownJob},
		{"bucket not allowed", with(func(r *fetch.Request) { r.Bucket = "other" }), fxPub, fxPriv, 403, fetch.RetBucketForbidden},
		{"10 MB body", bytes.Repeat([]byte("x"), 10<<20), fxPub, fxPriv, 413, fetch.RetTooLarge},
	} {
		status, r := raw(c.body, c.pub, c.priv)
		if status != c.status || r.RetCode != c.code || r.TaskID != "" || r.ErrMsg == "" {
			t.Fatalf("%s: %d %+v; want %d RetCode %d", c.name, status, r, c.status, c.code)
		}
	}
	if after := fxTaskTotal(t, m, job); after != before {
		t.Fatalf("refusals queued %d tasks", after-before)
	}
	// The CLI reports a refusal with a non-zero exit code.
	r := ferry(t, map[string]string{"FERRY_MASTER": m.url}, "fetch", "--job", job, "--key-pair", fxPub+":wrong", good.URL, fxBucket+"/k")
	if r.code == 0 || !strings.Contains(r.stderr, "RetCode") || r.stdout != "" {
		t.Fatalf("refused ferry fetch: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// fxReceiverDownThenUp: the callback is delivered once the receiver comes up.
func fxReceiverDownThenUp(t *testing.T, m *fxMaster, job string, o *fxOrigin) {
	addr := freeAddr(t)
	data := fxBytes(3000, 9)
	resp, status, err := fxSubmitter(m).Post(context.Background(), fetch.Request{URL: o.add("/ok/late.bin", data),
		Bucket: fxBucket, Key: "late.bin", JobID: job, SuccessCallbackURL: "http://" + addr + "/ok"})
	if err != nil || status != 200 {
		t.Fatalf("POST = %d %+v %v", status, resp, err)
	}
	// Wait until the task is done and a delivery has failed.
	fxWait(t, "a failed delivery", 60*time.Second, func() bool {
		st, _, err := fxSubmitter(m).Status(context.Background(), resp.TaskID)
		return err == nil && st.State == "done" && st.Callback.Attempts >= 2 && st.Callback.State == "pending"
	})
	rc := newFxReceiver()
	rc.serve(t, addr)
	fxWait(t, "the late callback", 60*time.Second, func() bool { ok, _, _ := rc.counts(); return ok == 1 })
	got := rc.ok[resp.TaskID]
	if got.SHA1 != fxSHA1(data) || got.Size != 3000 || got.Key != "late.bin" {
		t.Fatalf("late callback = %+v", got)
	}
}

// kill -9 the master between accepting and executing: every accepted task
// still completes, with its callback, after the restart.
func TestFetch_KillMaster(t *testing.T) {
	e := startEmu(t, fxBucket)
	addr, db := freeAddr(t), filepath.Join(t.TempDir(), "master.db")
	m := fxStartMaster(t, addr, db)
	job := fxCreateJob(t, m, e, "--allow-private-urls", "--allow-private-callbacks")
	o := fxStartOrigin(t)
	rc := newFxReceiver()
	cb := rc.serve(t, "127.0.0.1:0")
	want := map[string][]byte{}
	ids := map[string]string{}
	for i := range 20 {
		key := fmt.Sprintf("ok/killed/%02d.bin", i)
		want[key] = fxBytes(1000+i*4099, uint64(100+i))
		resp, status, err := fxSubmitter(m).Post(context.Background(), fetch.Request{URL: o.add("/"+key, want[key]),
			Bucket: fxBucket, Key: key, JobID: job, SuccessCallbackURL: cb + "/ok", FailureCallbackURL: cb + "/fail"})
		if err != nil || status != 200 {
			t.Fatalf("POST %s = %d %+v %v", key, status, resp, err)
		}
		ids[resp.TaskID] = key
	}
	m.kill() // no agent ran: nothing was executed
	m = fxStartMaster(t, addr, db)
	fxStartAgent(t, m, "fx-after-restart")
	fxWait(t, "every callback after the restart", 90*time.Second, func() bool { ok, _, _ := rc.counts(); return ok == len(want) })
	back := e.readBack(t, fxBucket, "ok/killed/")
	for id, key := range ids {
		got := rc.ok[id]
		if got.Key != key || got.SHA1 != fxSHA1(want[key]) || back[strings.TrimPrefix(key, "ok/killed/")] != sha256.Sum256(want[key]) {
			t.Fatalf("task %s (%s): callback %+v, stored correctly %v", id, key, got,
				back[strings.TrimPrefix(key, "ok/killed/")] == sha256.Sum256(want[key]))
		}
	}
	if _, fail, _ := rc.counts(); fail != 0 {
		t.Fatalf("%d failure callbacks", fail)
	}
}

// 1,000 POSTs from 50 concurrent clients: 1,000 distinct TaskIds, objects
// and callbacks.
func TestFetch_Concurrent(t *testing.T) {
	const n, clients = 1000, 50
	e := startEmu(t, fxBucket)
	m := fxStartMaster(t, freeAddr(t), filepath.Join(t.TempDir(), "master.db"))
	job := fxCreateJob(t, m, e, "--allow-private-urls", "--allow-private-callbacks")
	fxStartAgent(t, m, "fx-c1")
	fxStartAgent(t, m, "fx-c2")
	o := fxStartOrigin(t)
	rc := newFxReceiver()
	cb := rc.serve(t, "127.0.0.1:0")
	want := make([][]byte, n)
	for i := range n {
		want[i] = fxBytes(200+i%1500, uint64(5000+i))
		o.add(fmt.Sprintf("/ok/c/%04d", i), want[i])
	}
	ids := make([]string, n)
	work := make(chan int)
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sub := fxSubmitter(m)
			for i := range work {
				key := fmt.Sprintf("ok/c/%04d", i)
				resp, status, err := sub.Post(context.Background(), fetch.Request{URL: o.URL + "/" + key, Bucket: fxBucket,
					Key: key, JobID: job, SuccessCallbackURL: cb + "/ok", FailureCallbackURL: cb + "/fail"})
				if err != nil || status != 200 {
					t.Errorf("POST %s = %d %+v %v", key, status, resp, err)
				}
				ids[i] = resp.TaskID
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		return
	}
	distinct := map[string]int{}
	for i, id := range ids {
		distinct[id] = i
	}
	if len(distinct) != n {
		t.Fatalf("%d distinct TaskIds for %d requests", len(distinct), n)
	}
	fxWait(t, "1000 callbacks", 150*time.Second, func() bool { ok, fail, _ := rc.counts(); return ok+fail == n })
	if _, fail, _ := rc.counts(); fail != 0 {
		t.Fatalf("%d failure callbacks", fail)
	}
	for id, i := range distinct {
		got := rc.ok[id]
		if got.Key != fmt.Sprintf("ok/c/%04d", i) || got.SHA1 != fxSHA1(want[i]) || got.Size != int64(len(want[i])) {
			t.Fatalf("callback for %d = %+v", i, got)
		}
	}
	back := e.readBack(t, fxBucket, "ok/c/")
	if len(back) != n {
		t.Fatalf("%d objects in the emulator, want %d", len(back), n)
	}
	for i := range n {
		if back[fmt.Sprintf("%04d", i)] != sha256.Sum256(want[i]) {
			t.Fatalf("object %d differs", i)
		}
	}
}
