package fetch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-project/ferry/agent/agenttest"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/drivers"
	"github.com/ferry-project/ferry/fs/us3"
	"github.com/ferry-project/ferry/test/us3emu"
)

// us3Opener opens us3:// destinations from a job's credentials.
func us3Opener(ctx context.Context, dest string, creds map[string]string) (fs.Sink, error) {
	d, err := drivers.Standard(drivers.Options{})
	if err != nil {
		return nil, err
	}
	u, err := d.Parse(dest)
	if err != nil {
		return nil, err
	}
	s, err := us3.New(ctx, us3.Config{PublicKey: creds["US3_PUBLIC_KEY"], PrivateKey: creds["US3_PRIVATE_KEY"],
		Endpoint: creds["US3_ENDPOINT"], Bucket: u.Bucket, Prefix: u.Path})
	if err != nil {
		return nil, err
	}
	return s, s.Check(ctx)
}

// cluster is an in-process master (Service over a real catalog, the fetch
// job created through the job API) and n workers, with the emulator as
// destination.
type cluster struct {
	db     *catalog.FetchQueue
	master string
	job    string
	sink   *us3.Store
}

func startCluster(t *testing.T, workers int) *cluster {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db := openDB(t)
	_, endpoint := us3emu.StartForTest(t, us3emu.Options{})
	d := agenttest.Drivers(t)
	svc, err := NewService(ctx, ServiceConfig{DB: db, Drivers: d, Callbacks: fastDispatch(nil), Agents: AgentAPIOptions{TTL: 5 * time.Second},
		JobAPI: JobAPIOptions{Check: func(ctx context.Context, j Job) error {
			dest, err := j.SinkURI(d, us3emu.TestBucket)
			if err != nil {
				return err
			}
			_, err = us3Opener(ctx, dest, j.Creds)
			return err
		}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	svc.Mount(mux, requireToken("admin-token"), requireToken("cluster-token"))
	srv := httptest.NewServer(mux)
	creds := map[string]string{"US3_PUBLIC_KEY": us3emu.TestPublicKey, "US3_PRIVATE_KEY": us3emu.TestPrivateKey, "US3_ENDPOINT": endpoint}
	admin := testClient(t, srv.URL, "admin-token")
	if _, err := CreateJob(ctx, admin, JobSpec{Dest: "us3://" + us3emu.TestBucket, Keys: []JobKey{{testPub, "wrong"}}}); err == nil {
		t.Fatal("a job whose destination cannot be opened was created")
	}
	view, err := CreateJob(ctx, admin, JobSpec{Dest: "us3://" + us3emu.TestBucket, Credentials: creds,
		Keys: []JobKey{{testPub, testPriv}}, Concurrency: 2, AllowPrivateURLs: true, AllowPrivateCallbacks: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := testClient(t, srv.URL, "cluster-token").Do(ctx, http.MethodGet, PathJobs, nil, &[]JobView{}); err == nil {
		t.Fatal("the cluster token listed fetch jobs")
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); svc.Run(ctx) }()
	for i := range workers {
		w, err := NewWorker(WorkerOptions{
			Client: testClient(t, srv.URL, "cluster-token"), Agent: fmt.Sprintf("agent-%d", i),
			Open: us3Opener, Executor: testExecutor(), Slots: 4, Poll: 20 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); w.Run(ctx) }()
	}
	t.Cleanup(func() { cancel(); wg.Wait(); srv.Close() })
	sink, err := us3.New(ctx, us3.Config{PublicKey: us3emu.TestPublicKey, PrivateKey: us3emu.TestPrivateKey,
		Bucket: us3emu.TestBucket, Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{db: db, master: srv.URL, job: view.ID, sink: sink}
}

// requireToken stands in for the master's cluster-token check.
func requireToken(tok string) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+tok {
				http.Error(w, `{"error":"invalid token"}`, http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
}

func TestService_endToEnd(t *testing.T) {
	c := startCluster(t, 2)
	o := startOrigin(t)
	rc := &receiver{}
	addr := freeAddr(t)
	serveAt(t, addr, rc)
	cb := "http://" + addr

	type sent struct {
		key  string
		data []byte
		id   string
	}
	var tasks []*sent
	for i := range 30 {
		size := 1000 + i*37
		if i%10 == 0 {
			size = 5<<20 + i // some multipart
		}
		s := &sent{key: fmt.Sprintf("obj/%03d", i), data: randomBytes(size, uint64(i+7))}
		tasks = append(tasks, s)
		o.add("/"+s.key, s.data, []string{"", "noranges"}[i%2])
	}
	missing := o.add("/gone", nil, "404")
	var wg sync.WaitGroup
	for _, s := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := Request{URL: o.URL + "/" + s.key, Bucket: us3emu.TestBucket, Key: s.key, JobID: c.job,
				SuccessCallbackURL: cb + "/ok", FailureCallbackURL: cb + "/fail"}
			status, r := postJSON(t, c.master, req, testPub, testPriv)
			if status != 200 || r.TaskID == "" {
				t.Errorf("POST %s = %d %+v", s.key, status, r)
			}
			s.id = r.TaskID
		}()
	}
	wg.Wait()
	_, bad := postJSON(t, c.master, Request{URL: missing, Bucket: us3emu.TestBucket, Key: "gone", JobID: c.job,
		SuccessCallbackURL: cb + "/ok", FailureCallbackURL: cb + "/fail"}, testPub, testPriv)

	eventually(t, "every callback", func() bool { return len(rc.got("/ok")) == len(tasks) && len(rc.got("/fail")) == 1 })
	byID := map[string]SuccessCallback{}
	for _, b := range rc.got("/ok") {
		var s SuccessCallback
		if err := json.Unmarshal([]byte(b), &s); err != nil {
			t.Fatal(err)
		}
		byID[s.TaskID] = s
	}
	for _, s := range tasks {
		got, ok := byID[s.id]
		if !ok || got.Key != s.key || got.SHA1 != sha1Hex(s.data) || got.Size != int64(len(s.data)) || got.ETag != us3ETag(s.data) {
			t.Fatalf("callback for %s = %+v", s.key, got)
		}
		if stored := readStored(t, c.sink, s.key); sha1Hex(stored) != sha1Hex(s.data) {
			t.Fatalf("stored %s differs", s.key)
		}
	}
	var f FailureCallback
	json.Unmarshal([]byte(rc.got("/fail")[0]), &f)
	if f.Code != 1 || f.TaskID != bad.TaskID || f.Message != "source returned 404 Not Found" || f.Resource != missing {
		t.Fatalf("failure callback = %+v", f)
	}
	// The final state is visible through GET /fetch/{id}.
	var st Status
	eventually(t, "the delivered state", func() bool {
		req, _ := http.NewRequest(http.MethodGet, c.master+"/fetch/"+tasks[0].id, nil)
		SignRequest(req, testPub, testPriv)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		st = Status{}
		json.NewDecoder(resp.Body).Decode(&st)
		return st.Callback.State == "delivered"
	})
	if st.State != "done" || st.SHA1 != sha1Hex(tasks[0].data) || st.Size != int64(len(tasks[0].data)) {
		t.Fatalf("status = %+v", st)
	}
	// The job API shows the counts, never a secret.
	admin := testClient(t, c.master, "admin-token")
	var v JobView
	if err := admin.Do(context.Background(), http.MethodGet, PathJobs+"/"+c.job, nil, &v); err != nil {
		t.Fatal(err)
	}
	if v.Tasks["done"] != len(tasks) || v.Tasks["failed"] != 1 || fmt.Sprint(v.PublicKeys) != "["+testPub+"]" {
		t.Fatalf("job view = %+v", v)
	}
	raw, _ := json.Marshal(v)
	if strings.Contains(string(raw), testPriv) || strings.Contains(string(raw), us3emu.TestPrivateKey) {
		t.Fatalf("job view leaks a secret: %s", raw)
	}
	if err := admin.Do(context.Background(), http.MethodDelete, PathJobs+"/"+c.job, nil, nil); err != nil {
		t.Fatal(err)
	}
	// The job's key went with it: the key is unknown now.
	if status, r := postJSON(t, c.master, Request{URL: o.URL + "/x", Bucket: us3emu.TestBucket, Key: "x", JobID: c.job}, testPub, testPriv); status != 403 || r.RetCode != RetUnknownKey {
		t.Fatalf("POST for a deleted job = %d %+v", status, r)
	}
}
