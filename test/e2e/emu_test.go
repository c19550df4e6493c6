package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	ufsdk "github.com/ufilesdk-dev/ufile-gosdk"

	"github.com/ferry-project/ferry/test/us3emu"
)

// emu is a running bin/us3emu process.
type emu struct {
	endpoint string
	pub, key string
	cmd      *exec.Cmd
}

// startEmu runs the emulator binary with the given buckets (the first is
// the default) and stops it when the test ends.
func startEmu(t testing.TB, buckets ...string) *emu {
	t.Helper()
	e := &emu{pub: "e2e-public", key: "e2e-private-key"}
	args := []string{"--addr", "127.0.0.1:0", "--root", t.TempDir(), "--public-key", e.pub, "--private-key", e.key}
	for _, b := range buckets {
		args = append(args, "--bucket", b)
	}
	e.cmd = exec.Command(bins.us3emu, args...)
	out, err := e.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	e.cmd.Stderr = &stderr
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.cmd.Process.Kill(); _ = e.cmd.Wait() })
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if _, addr, ok := strings.Cut(sc.Text(), "listening on "); ok {
				ready <- strings.TrimSpace(addr)
			}
		}
	}()
	select {
	case e.endpoint = <-ready:
	case <-time.After(20 * time.Second):
		t.Fatalf("us3emu did not start: %s", stderr.String())
	}
	return e
}

// env is the environment a ferry command needs to reach this emulator.
func (e *emu) env() map[string]string {
	return map[string]string{"US3_PUBLIC_KEY": e.pub, "US3_PRIVATE_KEY": e.key, "US3_ENDPOINT": e.endpoint}
}

func (e *emu) admin(t testing.TB, method, path string, body, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.endpoint+"/_us3emu/"+path, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("emulator admin %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("emulator admin %s: %s %s", path, resp.Status, b)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("emulator admin %s: %v", path, err)
		}
	}
}

func (e *emu) stats(t testing.TB) us3emu.Stats {
	var s us3emu.Stats
	e.admin(t, "GET", "stats", nil, &s)
	return s
}

func (e *emu) resetStats(t testing.TB) { e.admin(t, "POST", "stats/reset", nil, nil) }

func (e *emu) uploads(t testing.TB) []us3emu.PendingUpload {
	var u []us3emu.PendingUpload
	e.admin(t, "GET", "uploads", nil, &u)
	return u
}

func (e *emu) setFaults(t testing.TB, errRate, dropRate float64) {
	e.admin(t, "PUT", "faults", map[string]any{"error_rate": errRate, "drop_rate": dropRate}, nil)
}

// sdk returns a real ufile-gosdk request bound to bucket.
func (e *emu) sdk(t testing.TB, bucket string) *ufsdk.UFileRequest {
	t.Helper()
	req, err := ufsdk.NewFileRequest(&ufsdk.Config{PublicKey: e.pub, PrivateKey: e.key, BucketName: bucket, Endpoint: e.endpoint}, &http.Client{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// readBack lists bucket/prefix with the real SDK and downloads every object,
// returning key (relative to prefix) → SHA-256.
func (e *emu) readBack(t testing.TB, bucket, prefix string) map[string][32]byte {
	t.Helper()
	var keys []string
	lister := e.sdk(t, bucket)
	marker := ""
	for {
		list, err := lister.ListObjects(prefix, marker, "", 1000)
		if err != nil {
			t.Fatalf("SDK ListObjects: %v", err)
		}
		for _, c := range list.Contents {
			keys = append(keys, c.Key)
		}
		if !list.IsTruncated || list.NextMarker == "" {
			break
		}
		marker = list.NextMarker
	}
	return hashAll(t, keys, prefix, func() func(key string, w io.Writer) error {
		req := e.sdk(t, bucket) // the SDK is not goroutine-safe: one request per worker
		return func(key string, w io.Writer) error {
			if err := req.DownloadFile(w, key); err != nil {
				return fmt.Errorf("SDK DownloadFile %q: %w", key, err)
			}
			return nil
		}
	})
}
