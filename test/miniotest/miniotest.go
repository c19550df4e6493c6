// Package miniotest runs a real MinIO server for tests: one process per
// Start, on a free loopback port, with its own data directory and its own
// random root credentials, stopped when the test ends. A test of outages
// can Kill it (SIGKILL) and Restart it on the same address with the same
// data and credentials.
package miniotest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Server is a running MinIO server.
type Server struct {
	// Endpoint is the base URL, "http://127.0.0.1:PORT".
	Endpoint string
	// AccessKey and SecretKey are the root credentials, random per server.
	AccessKey, SecretKey string
	// Region is the region clients sign for ("us-east-1").
	Region string
	// Dir is the server's data directory.
	Dir string

	bin, root string // the binary and the directory of data, certs and HOME
	console   string // the console's address, kept across restarts

	mu   sync.Mutex
	proc *process // the running server; nil after Kill or stop
}

// startAttempts bounds retries when the free port found was taken before
// MinIO could bind it.
const startAttempts = 3

// Start runs a real MinIO server on 127.0.0.1:<free port> with a temporary
// data directory, waits until /minio/health/live and then
// /minio/health/cluster answer 200 (the object layer is ready), and stops it
// (SIGTERM, then SIGKILL) on t.Cleanup. The binary is $MINIO_BIN, else
// `minio` in PATH, else $(go env GOPATH)/bin/minio; if none exists the test
// fails with instructions.
func Start(t testing.TB) *Server {
	t.Helper()
	s, stop, err := Launch(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return s
}

// Launch is Start for programs (benchmarks) that have no testing.TB: it
// runs MinIO with its data under root and returns a function that stops it.
func Launch(root string) (*Server, func(), error) {
	bin := findBinary()
	if bin == "" {
		return nil, nil, fmt.Errorf("minio not found: run `make tools` (go install github.com/minio/minio@latest)")
	}
	s := &Server{
		AccessKey: "ferry" + randHex(6),
		SecretKey: randHex(20),
		Region:    "us-east-1",
		Dir:       filepath.Join(root, "data"),
		bin:       bin,
		root:      root,
	}
	var lastErr error
	for attempt := 0; attempt < startAttempts; attempt++ {
		addr, console, err := freeAddrs()
		if err != nil {
			return nil, nil, fmt.Errorf("start minio: %w", err)
		}
		s.Endpoint, s.console = "http://"+addr, console
		if lastErr = s.launch(); lastErr == nil {
			return s, s.stop, nil
		}
	}
	return nil, nil, fmt.Errorf("start minio: %w", lastErr)
}

// freeAddrs returns two free loopback addresses: the API's and the
// console's.
func freeAddrs() (addr, console string, err error) {
	port, err := freePort()
	if err != nil {
		return "", "", err
	}
	cport, err := freePort()
	if err != nil {
		return "", "", err
	}
	return fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("127.0.0.1:%d", cport), nil
}

// findBinary returns the MinIO binary to run, or "" when there is none.
func findBinary() string {
	if b := os.Getenv("MINIO_BIN"); b != "" {
		return b
	}
	if b, err := exec.LookPath("minio"); err == nil {
		return b
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	for _, dir := range filepath.SplitList(gopath) {
		b := filepath.Join(dir, "bin", "minio")
		if fi, err := os.Stat(b); err == nil && !fi.IsDir() {
			return b
		}
	}
	return ""
}

// launch starts one MinIO process at s.Endpoint, waits until it is live
// and records it as the running one.
func (s *Server) launch() error {
	root := s.root
	cmd := exec.Command(s.bin, "server", "--quiet",
		"--address", strings.TrimPrefix(s.Endpoint, "http://"),
		"--console-address", s.console,
		"--certs-dir", filepath.Join(root, "certs"),
		s.Dir)
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+s.AccessKey,
		"MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_CI_CD=1",
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_REGION="+s.Region,
		"HOME="+root,
	)
	// live: the process serves HTTP; cluster: the object layer is up (until
	// then requests fail with 503 XMinioServerNotInitialized).
	p, err := startProcess(cmd, s.Endpoint+"/minio/health/live", s.Endpoint+"/minio/health/cluster")
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	return nil
}
