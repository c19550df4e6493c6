package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"syscall"
	"time"
)

// toxi is a running Toxiproxy server (github.com/Shopify/toxiproxy/v2,
// cmd/server), driven through its HTTP API.
type toxi struct {
	api string // "http://127.0.0.1:PORT"
	cmd *exec.Cmd
}

// startToxi runs the Toxiproxy server binary on a free loopback port and
// waits until its API answers. The caller must call stop.
func startToxi(ctx context.Context, bin string) (*toxi, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start toxiproxy: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "-host", "127.0.0.1", "-port", fmt.Sprint(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start toxiproxy: %w", err)
	}
	t := &toxi{api: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}
	for range 100 {
		if err := t.call(ctx, "GET", "/version", nil, nil); err == nil {
			return t, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.stop()
	return nil, fmt.Errorf("start toxiproxy: its API at %s never answered", t.api)
}

// stop ends the server.
func (t *toxi) stop() {
	if t != nil && t.cmd.Process != nil {
		_ = t.cmd.Process.Kill()
		_ = t.cmd.Wait()
	}
}

// call sends one API request with body (JSON, when not nil) and decodes
// the reply into out (when not nil).
func (t *toxi) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("toxiproxy %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.api+path, rd)
	if err != nil {
		return fmt.Errorf("toxiproxy %s %s: %w", method, path, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("toxiproxy %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("toxiproxy %s %s: %s %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("toxiproxy %s %s: %w", method, path, err)
		}
	}
	return nil
}

// proxy creates proxy name in front of upstream ("host:port") on a free
// loopback port and returns the address it listens on.
func (t *toxi) proxy(ctx context.Context, name, upstream string) (string, error) {
	var out struct {
		Listen string `json:"listen"`
	}
	err := t.call(ctx, "POST", "/proxies", map[string]any{
		"name": name, "listen": "127.0.0.1:0", "upstream": upstream, "enabled": true}, &out)
	if err != nil {
		return "", err
	}
	return out.Listen, nil
}

// toxic is one Toxiproxy toxic: type "latency" (attribute latency, ms)
// or "bandwidth" (attribute rate, KB/s), on stream "upstream" (client to
// server) or "downstream".
type toxic struct {
	Name       string           `json:"name"`
	Type       string           `json:"type"`
	Stream     string           `json:"stream"`
	Toxicity   float64          `json:"toxicity"`
	Attributes map[string]int64 `json:"attributes"`
}

// setToxics replaces every toxic of proxy name with ts.
func (t *toxi) setToxics(ctx context.Context, name string, ts []toxic) error {
	var have []toxic
	if err := t.call(ctx, "GET", "/proxies/"+name+"/toxics", nil, &have); err != nil {
		return err
	}
	for _, h := range have {
		if err := t.call(ctx, "DELETE", "/proxies/"+name+"/toxics/"+h.Name, nil, nil); err != nil {
			return err
		}
	}
	for _, x := range ts {
		if err := t.call(ctx, "POST", "/proxies/"+name+"/toxics", x, nil); err != nil {
			return err
		}
	}
	return nil
}
