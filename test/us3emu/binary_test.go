package us3emu_test

import (
	"bufio"
	"github.com/ferry-project/ferry/internal/syncbuf"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-project/ferry/test/us3emu"
	ufsdk "github.com/ufilesdk-dev/ufile-gosdk"
)

// TestBinary builds cmd/us3emu, runs it as a script would, drives it with
// the SDK and the admin API, and stops it with SIGTERM.
func TestBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "us3emu")
	build := exec.Command("go", "build", "-o", bin, "./cmd/us3emu")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	root := t.TempDir()
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--root", root, "--bucket", "first,second",
		"--bucket", "third", "--blk-size", "16", "--latency", "1ms")
	cmd.Env = append(os.Environ(), "US3_PUBLIC_KEY=env-pub", "US3_PRIVATE_KEY=env-priv")
	stdout, stdoutW := io.Pipe()
	cmd.Stdout = stdoutW
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitErr, exited := make(chan error, 1), make(chan struct{})
	go func() {
		waitErr <- cmd.Wait()
		stdoutW.Close()
		close(exited)
	}()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatalf("no ready line; stderr: %s", stderr.String())
	}
	go io.Copy(io.Discard, stdout)
	ep, ok := strings.CutPrefix(lines.Text(), "us3emu listening on ")
	if !ok || !strings.HasPrefix(ep, "http://127.0.0.1:") {
		t.Fatalf("ready line %q", lines.Text())
	}

	u, err := ufsdk.NewFileRequest(&ufsdk.Config{PublicKey: "env-pub", PrivateKey: "env-priv",
		BucketName: "first", Endpoint: ep}, nil)
	if err != nil {
		t.Fatal(err)
	}
	data := randBytes(100, 8)
	if err := u.MPut(writeTemp(t, data), "obj", "text/plain"); err != nil {
		t.Fatalf("mput: %v %s", err, u.LastResponseBody)
	}
	if got := download(t, u, "obj"); string(got) != string(data) {
		t.Fatal("bytes differ")
	}
	var st us3emu.Stats
	adminJSON(t, ep, "stats", &st)
	if st.Succeeded["UploadPart"] != 7 || st.Succeeded["FinishMultipart"] != 1 || st.Succeeded["GetFile"] != 1 {
		t.Fatalf("stats %+v", st)
	}
	if _, err := u.InitiateMultipartUpload("pending", "text/plain"); err != nil {
		t.Fatal(err)
	}
	var ups []us3emu.PendingUpload
	adminJSON(t, ep, "uploads", &ups)
	if len(ups) != 1 || ups[0].Key != "pending" || ups[0].Bucket != "first" {
		t.Fatalf("uploads %+v", ups)
	}
	// Bucket "third" is reachable by Host.
	third, err := ufsdk.NewFileRequest(&ufsdk.Config{PublicKey: "env-pub", PrivateKey: "env-priv",
		BucketName: "third", FileHost: "us3.test"}, us3emu.NewClient(ep))
	if err != nil {
		t.Fatal(err)
	}
	if err := third.PutFileWithData("t", "text/plain", []byte("3")); err != nil {
		t.Fatalf("put to third: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "third", "meta")); err != nil {
		t.Fatalf("third bucket not on disk: %v", err)
	}
	// Faults set through the admin API reach object requests.
	req, _ := http.NewRequest("PUT", ep+"/_us3emu/faults", strings.NewReader(`{"error_rate":1}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := u.HeadFile("obj"); err == nil || (u.LastResponseStatus != 500 && u.LastResponseStatus != 503) {
		t.Fatalf("head under error rate 1: %v %d", err, u.LastResponseStatus)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v; stderr: %s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit 30s after SIGTERM")
	}
	if strings.Contains(stderr.String(), "env-priv") {
		t.Fatal("private key logged")
	}
}
