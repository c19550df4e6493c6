// Package azuritetest runs a real Azurite blob service (Microsoft's Azure
// Storage emulator) for tests: one process per Start, on a free loopback
// port chosen by the kernel, in memory, with its own account and random
// key, stopped when the test ends. Telemetry is off (without
// --disableTelemetry Azurite tries to reach the internet).
package azuritetest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/ferry-project/ferry/internal/syncbuf"
)

// Version is the Azurite release the Makefile installs.
const Version = "3.35.0"

// readyWait bounds how long a start waits for Azurite to listen.
const readyWait = 60 * time.Second

// stopWait is how long stop waits after SIGTERM before SIGKILL.
const stopWait = 10 * time.Second

// Server is a running Azurite blob service.
type Server struct {
	// Endpoint is the account's blob service URL,
	// "http://127.0.0.1:PORT/ACCOUNT".
	Endpoint string
	// Account and Key are the account's name and shared key (random key).
	Account, Key string

	cmd    *exec.Cmd
	logs   *syncbuf.Buffer
	exited chan struct{}
	err    error // valid once exited is closed
}

// Start runs azurite-blob on 127.0.0.1 with a kernel-chosen port
// (--blobPort 0; the port is read from its "listens on" line), in memory
// (--inMemoryPersistence), and stops it on t.Cleanup. The binary is
// $AZURITE_BLOB_BIN, else `azurite-blob` in PATH; if there is none the
// test fails with how to install it.
func Start(t testing.TB) *Server {
	t.Helper()
	s, stop, err := Launch(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return s
}

// Launch is Start for programs without a testing.TB (benchmarks): Azurite
// runs in dir and the returned function stops it.
func Launch(dir string) (*Server, func(), error) {
	bin := os.Getenv("AZURITE_BLOB_BIN")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("azurite-blob"); err != nil {
			return nil, nil, fmt.Errorf("azurite-blob not found: run `make tools` (npm install -g azurite@%s; needs Node.js)", Version)
		}
	}
	s := &Server{Account: "ferry" + randHex(4), Key: base64.StdEncoding.EncodeToString(randBytes(64)),
		logs: &syncbuf.Buffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(bin,
		"--blobHost", "127.0.0.1", "--blobPort", "0",
		"--inMemoryPersistence", "--extentMemoryLimit", "1024",
		"--skipApiVersionCheck", "--disableTelemetry", "--silent")
	s.cmd.Dir = dir
	s.cmd.Env = append(os.Environ(), "AZURITE_ACCOUNTS="+s.Account+":"+s.Key)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	addr := make(chan string, 1)
	s.cmd.Stdout = &watcher{logs: s.logs, addr: addr}
	s.cmd.Stderr = s.logs
	if err := s.cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start azurite: run %s: %w", bin, err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.exited) }()
	select {
	case a := <-addr:
		s.Endpoint = a + "/" + s.Account
	case <-s.exited:
		return nil, nil, fmt.Errorf("start azurite: exited before listening: %v\nazurite output:\n%s", s.err, s.logs.String())
	case <-time.After(readyWait):
		s.kill()
		return nil, nil, fmt.Errorf("start azurite: not listening after %s\nazurite output:\n%s", readyWait, s.logs.String())
	}
	if err := s.waitReady(); err != nil {
		s.kill()
		return nil, nil, err
	}
	return s, s.stop, nil
}

// listenLine matches Azurite's "successfully listens on http://…" line.
var listenLine = regexp.MustCompile(`listens on (http://127\.0\.0\.1:\d+)`)

// watcher keeps Azurite's output and sends the listening address once
// it has been printed.
type watcher struct {
	logs *syncbuf.Buffer
	addr chan<- string
	once sync.Once
}

func (w *watcher) Write(p []byte) (int, error) {
	n, err := w.logs.Write(p)
	if m := listenLine.FindStringSubmatch(w.logs.String()); m != nil {
		w.once.Do(func() { w.addr <- m[1] })
	}
	return n, err
}

// waitReady lists the account's containers until Azurite answers.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(readyWait)
	var err error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err = s.Client().NewListContainersPager(nil).NextPage(ctx)
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("azurite at %s not ready after %s: %w\nazurite output:\n%s", s.Endpoint, readyWait, err, s.logs.String())
}

// Client returns an SDK service client of the account with its shared key,
// for tests' own setup and checks, independent of the code under test.
func (s *Server) Client() *service.Client {
	cred, err := service.NewSharedKeyCredential(s.Account, s.Key)
	if err != nil {
		panic(err) // the key is ours and valid base64
	}
	c, err := service.NewClientWithSharedKeyCredential(s.Endpoint+"/", cred, nil)
	if err != nil {
		panic(err)
	}
	return c
}

// CreateContainer creates container name, failing the test on error.
func (s *Server) CreateContainer(t testing.TB, name string) {
	t.Helper()
	if _, err := s.Client().CreateContainer(context.Background(), name, nil); err != nil {
		t.Fatalf("create container %q: %v", name, err)
	}
}

// ConnectionString is a connection string of the account.
func (s *Server) ConnectionString() string {
	return "DefaultEndpointsProtocol=http;AccountName=" + s.Account + ";AccountKey=" + s.Key + ";BlobEndpoint=" + s.Endpoint + ";"
}

// Logs returns what Azurite printed so far.
func (s *Server) Logs() string { return s.logs.String() }

// stop ends the process: SIGTERM, then SIGKILL if it lingers.
func (s *Server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(stopWait):
		s.kill()
	}
}

// kill ends the process at once and reaps it.
func (s *Server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// randBytes returns n random bytes.
func randBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("azuritetest: no randomness"))
	}
	return b
}

// randHex returns n random bytes as hex.
func randHex(n int) string { return strings.ToLower(hex.EncodeToString(randBytes(n))) }
