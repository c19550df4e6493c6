package deploy

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// The command lines of the manifests and the units are real: these tests
// take each container's args and env (and each unit's ExecStart) exactly as
// rendered or written, rewrite only what cannot exist on a test machine —
// listen and Service hosts become 127.0.0.1 ports, mounted volumes and
// systemd directories become temporary directories, Secrets and credential
// files are generated — and run that ferry invocation: a master and two
// agents start, pass their readiness checks, copy a job created with
// `ferry job create`, and stop with exit 0.

// ferryBin is the ferry binary under test: $FERRY_BIN (make test sets
// it), else one built from the main module into dir.
func ferryBin(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("FERRY_BIN"); b != "" {
		return b
	}
	out := filepath.Join(t.TempDir(), "ferry")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/ferry")
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build ferry (or set FERRY_BIN): %v\n%s", err, b)
	}
	return out
}

// image is what the Dockerfile's runtime stage gives every container: its
// entrypoint and environment.
type image struct {
	entrypoint []string
	env        map[string]string
}

// readImage reads the ENTRYPOINT and ENV lines of the Dockerfile's last stage.
func readImage(t *testing.T) image {
	t.Helper()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	img := image{env: map[string]string{}}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case f[0] == "FROM":
			img = image{env: map[string]string{}}
		case f[0] == "ENV":
			for _, kv := range f[1:] {
				k, v, _ := strings.Cut(kv, "=")
				img.env[k] = v
			}
		case f[0] == "ENTRYPOINT":
			if err := json.Unmarshal([]byte(strings.TrimSpace(strings.TrimPrefix(line, "ENTRYPOINT"))), &img.entrypoint); err != nil {
				t.Fatalf("ENTRYPOINT %q: %v", line, err)
			}
		}
	}
	if len(img.entrypoint) != 1 || path.Base(img.entrypoint[0]) != "ferry" {
		t.Fatalf("the image's entrypoint is %q, want the ferry binary", img.entrypoint)
	}
	return img
}

// proc is one ferry process a test started.
type proc struct {
	name  string
	cmd   *exec.Cmd
	log   string
	ready string // URL of its readiness endpoint ("" none)
	done  chan struct{}
	err   error
}

// start runs bin with args and env (nothing else of the test's
// environment but PATH and HOME) and stops it with SIGKILL at the end.
func start(t *testing.T, name, bin string, args []string, env map[string]string) *proc {
	t.Helper()
	p := &proc{name: name, log: filepath.Join(t.TempDir(), name+".log"), done: make(chan struct{})}
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Logf("%s: ferry %s", name, strings.Join(args, " "))
	go func() { p.err = p.cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	})
	return p
}

// exited waits up to limit for p to exit and returns its exit code.
func (p *proc) exited(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("%s did not exit within %v:\n%s", p.name, limit, p.logText())
	}
	return p.cmd.ProcessState.ExitCode()
}

// stop sends SIGTERM and wants exit 0 within limit.
func (p *proc) stop(t *testing.T, limit time.Duration) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM %s: %v", p.name, err)
	}
	if code := p.exited(t, limit); code != 0 {
		t.Fatalf("%s exited %d after SIGTERM, want 0:\n%s", p.name, code, p.logText())
	}
}

func (p *proc) logText() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// waitReady polls p's readiness URL until it answers 200.
func (p *proc) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before it was ready:\n%s", p.name, p.logText())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s never answered 200:\n%s", p.name, p.ready, p.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freePort returns a loopback address free right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// hostPort matches a host:port in an argument or a variable.
var hostPort = regexp.MustCompile(`([A-Za-z0-9.-]+):([0-9]+)`)

// pod runs the containers of rendered pod templates on loopback.
type pod struct {
	t       *testing.T
	r       rendered
	img     image
	bin     string
	service map[string]string // "service:port" → loopback address of its target
}

// run starts container name of workload w as pod podName: volumes become
// directories (Secrets filled from the rendered Secret), $(VAR) references
// are expanded from the container's env as the kubelet does, 0.0.0.0:PORT
// becomes a free loopback port and a Service's host:port the loopback
// address of its target. The readiness probe's URL is kept.
func (k *pod) run(w workload, name, podName string) *proc {
	t := k.t
	t.Helper()
	c := container(t, w.pod, name)
	if len(c.Command) > 0 {
		t.Fatalf("%s: the container overrides the image's ferry entrypoint with %q", w.name, c.Command)
	}
	root := filepath.Join(t.TempDir(), podName)
	mounts := map[string]string{} // mount path → directory
	for _, m := range c.VolumeMounts {
		dir := filepath.Join(root, m.Name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		mounts[m.MountPath] = dir
		for _, v := range w.pod.Spec.Volumes {
			if v.Name == m.Name && v.Secret != nil {
				k.fillSecret(v.Secret, dir)
			}
		}
	}
	// local maps a path under a mount (alone, or as a --flag=value's value).
	local := func(s string) string {
		prefix, v := "", s
		if f, val, ok := strings.Cut(s, "="); ok && strings.HasPrefix(f, "--") {
			prefix, v = f+"=", val
		}
		for mp, dir := range mounts {
			if v == mp || strings.HasPrefix(v, mp+"/") {
				return prefix + dir + strings.TrimPrefix(v, mp)
			}
		}
		return s
	}
	ports := map[string]string{} // container port → loopback address
	for _, p := range c.Ports {
		ports[strconv.Itoa(int(p.ContainerPort))] = freePort(t)
	}
	hosts := func(s string) string {
		return hostPort.ReplaceAllStringFunc(s, func(hp string) string {
			h, p, _ := net.SplitHostPort(hp)
			if h == "0.0.0.0" {
				a, ok := ports[p]
				if !ok {
					t.Fatalf("%s listens on port %s, which the container does not declare", w.name, p)
				}
				return a
			}
			if a, ok := k.service[strings.Split(h, ".")[0]+":"+p]; ok {
				return a
			}
			return hp
		})
	}
	env := map[string]string{}
	for kk, v := range k.img.env {
		env[kk] = local(v)
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = local(hosts(expand(e.Value, env)))
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			env[e.Name] = podName
		default:
			t.Fatalf("%s: env %s: add this source to the test", w.name, e.Name)
		}
	}
	var args []string
	for _, a := range c.Args {
		args = append(args, local(hosts(expand(a, env))))
	}
	p := start(t, podName, k.bin, args, env)
	if pr := c.ReadinessProbe; pr != nil && pr.HTTPGet != nil {
		port := pr.HTTPGet.Port.String()
		for _, cp := range c.Ports {
			if cp.Name == port {
				port = strconv.Itoa(int(cp.ContainerPort))
			}
		}
		p.ready = "http://" + ports[port] + pr.HTTPGet.Path
		// The Services that select this pod now lead here.
		for _, svc := range k.r.services {
			if matches(svc.Spec.Selector, w.pod.Labels) {
				for _, sp := range svc.Spec.Ports {
					target := sp.TargetPort.String()
					for _, cp := range c.Ports {
						if cp.Name == target {
							target = strconv.Itoa(int(cp.ContainerPort))
						}
					}
					k.service[svc.Name+":"+strconv.Itoa(int(sp.Port))] = ports[target]
				}
			}
		}
	}
	return p
}

// matches reports whether every selector label is among labels.
func matches(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return len(sel) > 0
}

// fillSecret writes the rendered Secret's keys (or the volume's items)
// into dir, as the kubelet mounts them.
func (k *pod) fillSecret(v *corev1.SecretVolumeSource, dir string) {
	t := k.t
	s, ok := k.r.secrets[v.SecretName]
	if !ok {
		t.Fatalf("volume of Secret %s, which the overlay does not render", v.SecretName)
	}
	items := v.Items
	if len(items) == 0 {
		for key := range s.Data {
			items = append(items, corev1.KeyToPath{Key: key, Path: key})
		}
	}
	for _, it := range items {
		data, ok := s.Data[it.Key]
		if !ok {
			t.Fatalf("Secret %s has no key %s", s.Name, it.Key)
		}
		if err := os.WriteFile(filepath.Join(dir, it.Path), data, 0o400); err != nil {
			t.Fatal(err)
		}
	}
}

// varRef is a $(VAR) reference of a container's args or env.
var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expand replaces $(VAR) with env's value, leaving unknown references as
// they are (as the kubelet does).
func expand(s string, env map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(ref string) string {
		if v, ok := env[ref[2:len(ref)-1]]; ok {
			return v
		}
		return ref
	})
}

// tree writes n small files under dir and returns their sums.
func tree(t *testing.T, dir string, n int) map[string]string {
	t.Helper()
	want := map[string]string{}
	for i := range n {
		rel := fmt.Sprintf("g%02d/f%04d.bin", i%7, i)
		b := make([]byte, 64+i%900)
		_, _ = rand.Read(b)
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, rel), b, 0o644); err != nil {
			t.Fatal(err)
		}
		want[rel] = sum(b)
	}
	return want
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// sameTree fails unless dir holds exactly want, byte for byte.
func sameTree(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		got[filepath.ToSlash(rel)] = sum(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s: %q at the destination, want the source's %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("the destination holds %d files, want %d", len(got), len(want))
	}
}

// job creates a local → local job on the master with `ferry job create`
// and waits until it is done.
type operator struct {
	bin, master, tokenFile string
}

func (o operator) ferry(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(o.bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "FERRY_MASTER=" + o.master}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ferry %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

func (o operator) createJob(t *testing.T, src, dst string) string {
	t.Helper()
	id := strings.TrimSpace(o.ferry(t, "job", "create", "--token-file", o.tokenFile, "--from", src, "--to", dst, "--workers", "4"))
	if !strings.HasPrefix(id, "job-") {
		t.Fatalf("ferry job create printed %q", id)
	}
	return id
}

func (o operator) waitDone(t *testing.T, id string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var v struct {
			State  string `json:"state"`
			Failed int64  `json:"failed"`
		}
		if err := json.Unmarshal([]byte(o.ferry(t, "job", "show", id, "--token-file", o.tokenFile, "--json")), &v); err != nil {
			t.Fatal(err)
		}
		if v.State == "done" && v.Failed == 0 {
			return
		}
		if v.State == "failed" || time.Now().After(deadline) {
			t.Fatalf("job %s is %s with %d failed", id, v.State, v.Failed)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// agentNames reads the agents the master has heard from.
func (o operator) agentNames(t *testing.T) string {
	t.Helper()
	return o.ferry(t, "job", "agents", "--token-file", o.tokenFile)
}

// TestManifestInvocations runs the rendered master StatefulSet, one agent
// of the pool overlay's Deployment and one of the batch overlay's Job on
// loopback: all three become ready (their readiness probes' endpoints
// answer 200), copy a job, the batch agent exits 0 by itself once the
// master has no work (--exit-when-idle), and the pool agent and the master
// exit 0 on SIGTERM.
func TestManifestInvocations(t *testing.T) {
	bin := ferryBin(t)
	pool := sortObjects(t, render(t, "pool"))
	batch := sortObjects(t, render(t, "batch"))
	byKind := func(r rendered, kind string) workload {
		for _, w := range r.workloads {
			if w.kind == kind {
				return w
			}
		}
		t.Fatalf("no %s rendered", kind)
		return workload{}
	}
	k := &pod{t: t, r: pool, img: readImage(t), bin: bin, service: map[string]string{}}
	master := k.run(byKind(pool, "StatefulSet"), "master", "ferry-master-0")
	master.waitReady(t)
	// The batch overlay's agents use the same Secret and Service names; the
	// test's pods share the pool overlay's generated Secret.
	kb := &pod{t: t, r: batch, img: k.img, bin: bin, service: k.service}
	kb.r.secrets = pool.secrets

	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "dst")
	want := tree(t, src, 600)
	adminToken := filepath.Join(t.TempDir(), "admin-token")
	if err := os.WriteFile(adminToken, pool.secrets["ferry"].Data["admin-token"], 0o600); err != nil {
		t.Fatal(err)
	}
	op := operator{bin: bin, master: "http://" + k.service["ferry-master:7070"], tokenFile: adminToken}
	if op.master == "http://" {
		t.Fatalf("no Service leads to the master (services %v)", k.service)
	}
	id := op.createJob(t, src, dst)

	poolAgent := k.run(byKind(pool, "Deployment"), "agent", "ferry-agent-7d4b9-x2x4q")
	batchAgent := kb.run(byKind(batch, "Job"), "agent", "ferry-agents-q8z2m")
	poolAgent.waitReady(t)
	op.waitDone(t, id)
	sameTree(t, dst, want)
	if code := batchAgent.exited(t, time.Minute); code != 0 {
		t.Fatalf("the batch agent exited %d, want 0 (--exit-when-idle):\n%s", code, batchAgent.logText())
	}
	if names := op.agentNames(t); !strings.Contains(names, "ferry-agent-7d4b9-x2x4q") || !strings.Contains(names, "ferry-agents-q8z2m") {
		t.Fatalf("the master did not hear from both agents (named after their pods):\n%s", names)
	}
	poolAgent.stop(t, 45*time.Second)
	master.stop(t, 60*time.Second)
}

// unitEnv is what systemd gives a unit's process: Environment= and
// EnvironmentFile= variables, CREDENTIALS_DIRECTORY and STATE_DIRECTORY.
type unitRun struct {
	args []string
	env  map[string]string
}

// prepareUnit turns a unit's ExecStart into a runnable invocation the way
// systemd would for instance inst: specifiers (%i, %S) and ${VAR}
// references resolved, LoadCredential= files copied from creds (the test's
// /etc/ferry) into a credentials directory, the StateDirectory= created
// under a temporary %S, EnvironmentFile= read (/etc/ferry/… from etc),
// and 0.0.0.0 / 127.0.0.1 listen and master addresses rewritten by addr.
func prepareUnit(t *testing.T, file, inst, etc string, addr func(hostPort string) string) unitRun {
	t.Helper()
	u := readUnit(t, file)
	svc := u["Service"]
	root := t.TempDir()
	stateRoot := filepath.Join(root, "state")
	spec := strings.NewReplacer("%i", inst, "%S", stateRoot, "%%", "%")
	env := map[string]string{}
	for _, ef := range svc["EnvironmentFile"] {
		name := filepath.Join(etc, strings.TrimPrefix(strings.TrimPrefix(ef, "-"), "/etc/ferry/"))
		f, err := os.Open(name)
		if err != nil {
			t.Fatalf("%s: EnvironmentFile %s: %v", file, ef, err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
				env[k] = hostPort.ReplaceAllStringFunc(v, addr)
			}
		}
		f.Close()
	}
	for _, e := range svc["Environment"] {
		k, v, _ := strings.Cut(spec.Replace(e), "=")
		env[k] = v
	}
	for _, sd := range svc["StateDirectory"] {
		dir := filepath.Join(stateRoot, spec.Replace(sd))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		env["STATE_DIRECTORY"] = dir
	}
	creds := filepath.Join(root, "credentials")
	if err := os.MkdirAll(creds, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, lc := range svc["LoadCredential"] {
		name, src, _ := strings.Cut(lc, ":")
		b, err := os.ReadFile(filepath.Join(etc, strings.TrimPrefix(src, "/etc/ferry/")))
		if err != nil {
			t.Fatalf("%s: LoadCredential %s: %v", file, lc, err)
		}
		if err := os.WriteFile(filepath.Join(creds, name), b, 0o400); err != nil {
			t.Fatal(err)
		}
	}
	env["CREDENTIALS_DIRECTORY"] = creds
	words := strings.Fields(spec.Replace(svc["ExecStart"][0]))
	if words[0] != "/usr/local/bin/ferry" {
		t.Fatalf("%s: ExecStart runs %s, want /usr/local/bin/ferry", file, words[0])
	}
	var args []string
	for _, w := range words[1:] {
		w = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`).ReplaceAllStringFunc(w, func(ref string) string {
			v, ok := env[ref[2:len(ref)-1]]
			if !ok {
				t.Fatalf("%s: ExecStart uses %s, which the unit does not set", file, ref)
			}
			return v
		})
		args = append(args, hostPort.ReplaceAllStringFunc(w, addr))
	}
	return unitRun{args: args, env: env}
}

// TestUnitInvocations runs ferry-master.service and two instances of
// ferry-agent@.service as systemd would (credentials from files, state
// directories, the shipped agent.env): the master becomes ready, both
// agents report to it, a job is copied, and all three exit 0 on SIGTERM.
func TestUnitInvocations(t *testing.T) {
	bin := ferryBin(t)
	etc := t.TempDir() // the operator's /etc/ferry
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	files := map[string]string{"secret-key": base64.StdEncoding.EncodeToString(key) + "\n"}
	for _, name := range []string{"admin-token", "cluster-token", "metrics-token"} {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		files[name] = hex.EncodeToString(b) + "\n"
	}
	env, err := os.ReadFile("systemd/agent.env.example")
	if err != nil {
		t.Fatal(err)
	}
	files["agent.env"] = string(env)
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(etc, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The master listens on 0.0.0.0:7070 and agent.env points agents at
	// 127.0.0.1:7070: both become the master's free loopback port.
	masterAddr := freePort(t)
	addr := func(hp string) string {
		if _, p, _ := net.SplitHostPort(hp); p == "7070" {
			return masterAddr
		}
		return hp
	}
	mu := prepareUnit(t, "systemd/ferry-master.service", "", etc, addr)
	master := start(t, "ferry-master.service", bin, mu.args, mu.env)
	master.ready = "http://" + masterAddr + "/readyz"
	master.waitReady(t)

	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "dst")
	want := tree(t, src, 600)
	op := operator{bin: bin, master: "http://" + masterAddr, tokenFile: filepath.Join(etc, "admin-token")}
	id := op.createJob(t, src, dst)
	var agents []*proc
	for _, inst := range []string{"a1", "a2"} {
		au := prepareUnit(t, "systemd/ferry-agent@.service", inst, etc, addr)
		agents = append(agents, start(t, "ferry-agent@"+inst+".service", bin, au.args, au.env))
	}
	op.waitDone(t, id)
	sameTree(t, dst, want)
	if names := op.agentNames(t); !strings.Contains(names, "a1") || !strings.Contains(names, "a2") {
		t.Fatalf("the master did not hear from both agents:\n%s", names)
	}
	for _, a := range agents {
		a.stop(t, 45*time.Second)
	}
	master.stop(t, 60*time.Second)
}
