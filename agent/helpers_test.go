package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/drivers"
	"github.com/ferry-project/ferry/fs/local"
)

const (
	adminToken   = "admin-secret-token"
	clusterToken = "cluster-secret-token"
)

// testDrivers is the standard registry, as cmd/ferry builds it.
func testDrivers(t testing.TB) fs.Registry {
	t.Helper()
	r, err := drivers.Standard(drivers.Options{SQLite: "sqlite3"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// localOpener opens local directories with the real local driver; any
// other location cannot be opened (as an unreachable store would not).
// It records the credentials it was handed.
type localOpener struct {
	drivers fs.Registry
	mu      sync.Mutex
	creds   []map[string]string
}

var _ Opener = (*localOpener)(nil)

func (o *localOpener) path(loc Location) (string, error) {
	o.mu.Lock()
	o.creds = append(o.creds, loc.Creds)
	o.mu.Unlock()
	u, err := o.drivers.Parse(loc.URI)
	if err != nil {
		return "", err
	}
	if u.Scheme != fs.FileScheme {
		return "", fmt.Errorf("%s: no such store here", loc.URI)
	}
	return u.Path, nil
}

func (o *localOpener) OpenSource(ctx context.Context, loc Location) (fs.Tree, error) {
	p, err := o.path(loc)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(p); err != nil {
		return nil, err
	}
	return local.New(p)
}

func (o *localOpener) OpenDest(ctx context.Context, loc Location) (fs.Sink, error) {
	p, err := o.path(loc)
	if err != nil {
		return nil, err
	}
	sk, err := local.NewSink(p)
	if err != nil {
		return nil, err
	}
	return deletingSink{sk, p}, nil
}

func (o *localOpener) OpenDestTree(ctx context.Context, loc Location) (fs.Tree, error) {
	p, err := o.path(loc)
	if err != nil {
		return nil, err
	}
	return local.New(p)
}

// deletingSink is a local sink that can delete files.
type deletingSink struct {
	*local.Sink
	root string
}

func (d deletingSink) Delete(ctx context.Context, key string) error {
	err := os.Remove(filepath.Join(d.root, filepath.FromSlash(key)))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// testMaster is a master served on 127.0.0.1 over a real SQLite file.
type testMaster struct {
	m       *Master
	db      *catalog.MasterDB
	srv     *httptest.Server
	admin   *Client
	cluster *Client
	opener  *localOpener
}

// startMaster runs a master with short leases; tweak adjusts its config.
func startMaster(t testing.TB, tweak func(*MasterConfig)) *testMaster {
	t.Helper()
	ctx := context.Background()
	db, err := catalog.OpenMaster(ctx, filepath.Join(t.TempDir(), "master.db"), NextRun)
	if err != nil {
		t.Fatal(err)
	}
	tm := &testMaster{db: db, opener: &localOpener{drivers: testDrivers(t)}}
	cfg := MasterConfig{DB: db, Opener: tm.opener, Drivers: testDrivers(t), AdminToken: adminToken, ClusterToken: clusterToken,
		LeaseTTL: 2 * time.Second, Heartbeat: 100 * time.Millisecond}
	if tweak != nil {
		tweak(&cfg)
	}
	if tm.m, err = NewMaster(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	tm.srv = httptest.NewServer(tm.m)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); tm.m.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done; tm.srv.Close(); db.Close() })
	tm.admin, _ = NewClient(tm.srv.URL, adminToken)
	tm.cluster, _ = NewClient(tm.srv.URL, clusterToken)
	return tm
}

// runAgent runs an agent until the returned stop function is called.
func runAgent(t testing.TB, tm *testMaster, name string, workers int) (stop func()) {
	t.Helper()
	a, err := New(Config{Client: tm.cluster, Name: name, Opener: &localOpener{drivers: testDrivers(t)},
		CatalogDir: filepath.Join(t.TempDir(), name), Workers: workers, IdleWait: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("agent %s: %v", name, err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// makeFiles writes n small files spread over dirs directories under root.
func makeFiles(t testing.TB, root string, dirs, n int, tag string) map[string]string {
	t.Helper()
	want := map[string]string{}
	for i := 0; i < n; i++ {
		rel := fmt.Sprintf("d%02d/f%05d-%s.txt", i%dirs, i, tag)
		data := fmt.Sprintf("%s %d %s", tag, i, strings.Repeat("x", i%97))
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		want[rel] = data
	}
	return want
}

// readFiles returns relative path → content of every regular file under
// root, ignoring the local sink's staging directory.
func readFiles(t testing.TB, root string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".ferry-uploads" {
				return filepath.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		got[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return got
}

// sameFiles fails the test unless got holds exactly want.
func sameFiles(t testing.TB, want, got map[string]string) {
	t.Helper()
	var bad []string
	for k, v := range want {
		if got[k] != v {
			bad = append(bad, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			bad = append(bad, "extra "+k)
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Fatalf("%d of %d files wrong or extra, first: %v", len(bad), len(want), bad[:min(5, len(bad))])
	}
}

// waitJob polls a job until cond holds, failing after a generous deadline.
func waitJob(t testing.TB, c *Client, id string, what string, cond func(JobView) bool) JobView {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		v, err := c.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if cond(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s never %s: %+v", id, what, v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isState(s string) func(JobView) bool { return func(v JobView) bool { return v.State == s } }

// createJob creates a job from src to dst and returns its ID.
func createJob(t testing.TB, c *Client, spec JobSpec) string {
	t.Helper()
	v, err := c.CreateJob(context.Background(), spec)
	if err != nil {
		t.Fatalf("CreateJob: %v", err)
	}
	return v.ID
}

// discardLogger drops every record.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
