package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/ferry-project/ferry/test/miniotest"
)

// minioServer is a MinIO process that can be killed -9 and restarted on
// the same port, data directory and credentials. miniotest.Launch picks a
// new port and new credentials at every start, so this program runs the
// process itself; the embedded miniotest.Server gives the S3 client.
type minioServer struct {
	*miniotest.Server
	bin, root, console string
	p                  *proc
}

// minioReady bounds a start; a guard against a hung server.
const minioReady = time.Minute

// startMinio runs MinIO on a free loopback port with its data under root.
func startMinio(ctx context.Context, bin, root string) (*minioServer, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("start minio: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	console, err := freeAddr()
	if err != nil {
		return nil, err
	}
	key := make([]byte, 20)
	_, _ = rand.Read(key)
	m := &minioServer{
		Server: &miniotest.Server{Endpoint: "http://" + addr, AccessKey: "chaos" + hex.EncodeToString(key[:4]),
			SecretKey: hex.EncodeToString(key), Region: "us-east-1", Dir: filepath.Join(root, "data")},
		bin: bin, root: root, console: console,
	}
	if err := m.start(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// start runs the process and waits until the object layer serves.
func (m *minioServer) start(ctx context.Context) error {
	env := append(os.Environ(),
		"MINIO_ROOT_USER="+m.AccessKey, "MINIO_ROOT_PASSWORD="+m.SecretKey,
		"MINIO_CI_CD=1", "MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_REGION="+m.Region, "HOME="+m.root)
	p, err := startProc("minio", filepath.Join(m.root, "minio.log"), env, m.bin, "server", "--quiet",
		"--address", m.Endpoint[len("http://"):], "--console-address", m.console,
		"--certs-dir", filepath.Join(m.root, "certs"), m.Dir)
	if err != nil {
		return err
	}
	m.p = p
	for _, u := range []string{"/minio/health/live", "/minio/health/cluster"} {
		if err := waitHTTP(ctx, p, m.Endpoint+u, minioReady); err != nil {
			p.kill()
			return fmt.Errorf("start minio: %w (log: %s)", err, p.tail(5))
		}
	}
	return nil
}

// kill ends MinIO with SIGKILL.
func (m *minioServer) kill() { m.p.kill() }

// restart starts MinIO again after kill, on the same port and data.
func (m *minioServer) restart(ctx context.Context) error { return m.start(ctx) }

// stop ends MinIO.
func (m *minioServer) stop() {
	if m.p != nil && m.p.running() {
		m.p.kill()
	}
}

// waitHTTP polls url until it answers 200, p exits, ctx ends or limit
// passes.
func waitHTTP(ctx context.Context, p *proc, url string, limit time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if !p.running() {
			return fmt.Errorf("wait for %s: %s exited", url, p.name)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", url, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("wait for %s: not 200 after %v", url, limit)
}
