package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/ferry-project/ferry/test/us3emu"
)

const emuPub, emuKey = "chaos-public", "chaos-private"

// emuServer is a bin/us3emu process that can be killed -9 and restarted on
// the same port and data directory (the emulator reloads its objects and
// pending uploads from there).
type emuServer struct {
	bin, root, addr string
	buckets         []string
	p               *proc
}

// startEmu runs the emulator on a free loopback port with the buckets.
func startEmu(ctx context.Context, bin, root string, buckets ...string) (*emuServer, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("start us3emu: %w", err)
	}
	e := &emuServer{bin: bin, root: root, addr: addr, buckets: buckets}
	if err := e.start(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// endpoint is the emulator's base URL.
func (e *emuServer) endpoint() string { return "http://" + e.addr }

// start runs the process and waits until it answers its health check.
func (e *emuServer) start(ctx context.Context) error {
	argv := []string{e.bin, "--addr", e.addr, "--root", filepath.Join(e.root, "data"),
		"--public-key", emuPub, "--private-key", emuKey}
	for _, b := range e.buckets {
		argv = append(argv, "--bucket", b)
	}
	p, err := startProc("us3emu", filepath.Join(e.root, "us3emu.log"), os.Environ(), argv...)
	if err != nil {
		return err
	}
	e.p = p
	if err := waitHTTP(ctx, p, e.endpoint()+"/_us3emu/health", time.Minute); err != nil {
		p.kill()
		return fmt.Errorf("start us3emu: %w (log: %s)", err, p.tail(5))
	}
	return nil
}

// kill ends the emulator with SIGKILL.
func (e *emuServer) kill() { e.p.kill() }

// restart starts the emulator again after kill, on the same port and data.
func (e *emuServer) restart(ctx context.Context) error { return e.start(ctx) }

// stop ends the emulator.
func (e *emuServer) stop() {
	if e.p != nil && e.p.running() {
		e.p.kill()
	}
}

// env is what ferry needs to reach the emulator at endpoint (the
// emulator's own, or a proxy's in front of it).
func (e *emuServer) env(endpoint string) []string {
	return []string{"US3_PUBLIC_KEY=" + emuPub, "US3_PRIVATE_KEY=" + emuKey, "US3_ENDPOINT=" + endpoint}
}

// pendingUploads returns the multipart uploads the emulator holds open.
func (e *emuServer) pendingUploads(ctx context.Context) ([]us3emu.PendingUpload, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.endpoint()+"/_us3emu/uploads", nil)
	if err != nil {
		return nil, fmt.Errorf("list emulator uploads: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("list emulator uploads: %w", err)
	}
	defer resp.Body.Close()
	var ups []us3emu.PendingUpload
	if err := json.NewDecoder(resp.Body).Decode(&ups); err != nil {
		return nil, fmt.Errorf("list emulator uploads: %w", err)
	}
	return ups, nil
}
