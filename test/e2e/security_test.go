package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/internal/tlsclient"
	"github.com/ferry-project/ferry/internal/tlsclient/tlstest"
)

// secMaster is a `ferry master` started with its tokens in files.
type secMaster struct {
	url, db, log string
	cmd          *exec.Cmd
	api          *agent.Client
}

// secStartMaster runs ferry master on a free port with db, the admin and
// cluster tokens in files (never on the command line), and extra flags;
// with ca it is an https master whose certificate ca signed.
func secStartMaster(t *testing.T, db, ca string, extra ...string) *secMaster {
	t.Helper()
	dir := t.TempDir()
	adminFile, clusterFile := filepath.Join(dir, "admin.token"), filepath.Join(dir, "cluster.token")
	for f, tok := range map[string]string{adminFile: adminTok + "\n", clusterFile: clusterTok + "\n"} {
		if err := os.WriteFile(f, []byte(tok), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	addr := freeAddr(t)
	args := append([]string{"master", "--listen", addr, "--db", db, "--admin-token-file", adminFile,
		"--cluster-token-file", clusterFile, "--lease-ttl", "3s", "--heartbeat", "300ms"}, extra...)
	m := &secMaster{url: "http://" + addr, db: db, log: filepath.Join(dir, "master.log")}
	var opts []agent.ClientOption
	if ca != "" {
		m.url = "https://" + addr
		pool, err := tlsclient.LoadCA(ca)
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, agent.WithCA(pool))
	}
	m.cmd = exec.Command(bins.ferry, args...)
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
	m.api, _ = agent.NewClient(m.url, adminTok, opts...)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := m.api.Jobs(context.Background()); err == nil {
			return m
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(m.log)
			t.Fatalf("ferry master did not start: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (m *secMaster) kill() {
	if m.cmd.ProcessState == nil {
		_ = m.cmd.Process.Signal(syscall.SIGKILL)
		_ = m.cmd.Wait()
	}
}

// TestMaster_StateFilesPrivate: the master's catalog, its -wal, -shm and
// .lock and the generated secret key are 0600 (so another local user
// cannot read them even in a world-readable directory), and the cloud keys
// and fetch private keys in the catalog are not there in plain text,
// neither while the master runs nor after kill -9.
func TestMaster_StateFilesPrivate(t *testing.T) {
	base, err := os.MkdirTemp("", "ferry-e2e-state-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil { // only the files' own modes protect them
		t.Fatal(err)
	}
	const credMarker, fetchMarker = "E2E-CLOUD-SECRET-4c1d", "E2E-FETCH-PRIVATE-9e2b"
	db := filepath.Join(base, "master.db")
	m := secStartMaster(t, db, "")
	if b, _ := os.ReadFile(m.log); !strings.Contains(string(b), "generated the secret key "+db+".key") {
		t.Errorf("the master does not report the key it generated:\n%s", b)
	}
	e := startEmu(t, "dst")
	src := t.TempDir()
	smallTree(t, src, "s", 5, 5, 31)
	vars := e.env()
	vars["FERRY_MASTER"], vars["FERRY_ADMIN_TOKEN"] = m.url, adminTok
	vars["FERRY_SRC_AWS_SECRET_ACCESS_KEY"] = credMarker
	mustFerry(t, vars, "job", "create", "--from", src, "--to", "us3://dst/sec/")
	keys := filepath.Join(t.TempDir(), "fetch.keys")
	if err := os.WriteFile(keys, []byte("# the job's key\nsec-pub:"+fetchMarker+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustFerry(t, vars, "job", "create", "--type", "fetch", "--to", "us3://dst", "--fetch-key-file", keys)

	files := []string{db, db + "-wal", db + "-shm", db + ".lock", db + ".key"}
	check := func(when string) {
		for _, p := range files {
			fi, err := os.Stat(p)
			if err != nil {
				if when == "after kill -9" && errors.Is(err, os.ErrNotExist) {
					continue
				}
				t.Fatalf("%s: %v", when, err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s has mode %o, want 600", when, filepath.Base(p), fi.Mode().Perm())
			}
			if os.Getuid() == 0 {
				cat := exec.Command("cat", p)
				cat.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
				if out, err := cat.CombinedOutput(); err == nil || !strings.Contains(string(out), "Permission denied") {
					t.Errorf("%s: uid 65534 read %s (%v): %.80q", when, filepath.Base(p), err, out)
				}
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{credMarker, fetchMarker} {
				if bytes.Contains(b, []byte(secret)) {
					t.Errorf("%s: %s holds %q in plain text", when, filepath.Base(p), secret)
				}
			}
		}
	}
	check("while the master runs")
	m.kill()
	check("after kill -9")

	// Restarted without its key, the master refuses to start and changes
	// nothing (neither the catalog nor the -wal kill -9 left).
	state := func() []byte {
		a, _ := os.ReadFile(db)
		b, _ := os.ReadFile(db + "-wal")
		return append(a, b...)
	}
	before := state()
	other := filepath.Join(t.TempDir(), "other.key")
	r := ferry(t, nil, "master", "--db", db, "--listen", freeAddr(t), "--admin-token", "a", "--cluster-token", "c",
		"--secret-key-file", other)
	if r.code == 0 || !strings.Contains(r.stderr, "key file "+other+" is missing") {
		t.Fatalf("master with a missing key file: exit %d, %q", r.code, r.stderr)
	}
	if !bytes.Equal(before, state()) {
		t.Error("a refused start changed the catalog")
	}
}

// TestMaster_TLS: a master with --tls-cert/--tls-key serves https; an
// agent and `ferry job list` given --ca reach it, with the tokens from a
// file and the variables; without --ca they fail with an error that says
// to pass it.
func TestMaster_TLS(t *testing.T) {
	certs, err := tlstest.Write(t.TempDir(), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	m := secStartMaster(t, filepath.Join(t.TempDir(), "master.db"), certs.CA, "--tls-cert", certs.Cert, "--tls-key", certs.Key)
	tokenFile := filepath.Join(t.TempDir(), "admin.token")
	if err := os.WriteFile(tokenFile, []byte(adminTok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"FERRY_MASTER": m.url}
	list := mustFerry(t, vars, "job", "list", "--ca", certs.CA, "--token-file", tokenFile)
	if strings.Contains(list.stderr, "error") {
		t.Fatalf("job list over https: %q", list.stderr)
	}
	r := ferry(t, vars, "job", "list", "--token-file", tokenFile)
	if r.code == 0 || !strings.Contains(r.stderr, "certificate") || !strings.Contains(r.stderr, "--ca FILE") {
		t.Fatalf("job list over https without --ca: exit %d, %q; want a certificate error naming --ca", r.code, r.stderr)
	}

	src, dst := t.TempDir(), t.TempDir()
	smallTree(t, src, "t", 40, 10, 32)
	vars["FERRY_ADMIN_TOKEN"], vars["FERRY_CA"] = adminTok, certs.CA
	id := strings.TrimSpace(mustFerry(t, vars, "job", "create", "--from", src, "--to", dst).stdout)

	// An agent without the CA cannot lease, and says why.
	bad, badLog := secStartAgent(t, m.url, "untrusting")
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(readLog(badLog), "--ca FILE") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	_ = bad.Process.Kill()
	_ = bad.Wait()
	if out := readLog(badLog); !strings.Contains(out, "certificate") || !strings.Contains(out, "--ca FILE") {
		t.Fatalf("agent without --ca: %q; want a certificate error naming --ca", out)
	}

	// With --ca, it copies the job.
	good, goodLog := secStartAgent(t, m.url, "trusting", "--ca", certs.CA)
	deadline = time.Now().Add(time.Minute)
	for {
		v, err := m.api.Job(context.Background(), id)
		if err == nil && v.State == "done" {
			if v.Copied != 40 {
				t.Fatalf("job done with %d copied, want 40", v.Copied)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job over https not done: %+v, %v\nagent: %s\nmaster: %s", v.State, err, readLog(goodLog), readLog(m.log))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The tokens never were on a command line.
	for _, c := range []*exec.Cmd{m.cmd, good} {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(c.Process.Pid) + "/cmdline")
		if bytes.Contains(b, []byte(adminTok)) || bytes.Contains(b, []byte(clusterTok)) {
			t.Errorf("a token is on the command line: %q", b)
		}
	}
}

// secStartAgent starts an agent of master with the cluster token in
// FERRY_CLUSTER_TOKEN, killed at cleanup; its output goes to the returned
// log file.
func secStartAgent(t *testing.T, master, name string, extra ...string) (*exec.Cmd, string) {
	t.Helper()
	log := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bins.ferry, append([]string{"migrate", "run", "--master", master, "--name", name}, extra...)...)
	cmd.Env = ferryEnv(map[string]string{"FERRY_CLUSTER_TOKEN": clusterTok, "FERRY_STATE_DIR": t.TempDir()})
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		f.Close()
	})
	return cmd, log
}

// readLog returns the contents of a log file ("" when unreadable).
func readLog(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
