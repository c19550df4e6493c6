package azblob

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/test/azuritetest"
)

// Environment of the helper process of TestStore_ResumeAfterKill.
const (
	envChild    = "FERRY_AZBLOB_KILL_CHILD"
	envEndpoint = "FERRY_AZBLOB_KILL_ENDPOINT"
	envAccount  = "FERRY_AZBLOB_KILL_ACCOUNT"
	envKey      = "FERRY_AZBLOB_KILL_KEY"
	envData     = "FERRY_AZBLOB_KILL_DATA"
	envUpload   = "FERRY_AZBLOB_KILL_UPLOAD"
)

// killParts and killPartSize shape the object the helper uploads.
const (
	killParts    = 8
	killPartSize = MinPartSize
)

// TestStore_ResumeAfterKill runs a block upload in another process, kills
// it with SIGKILL once some blocks are staged, and resumes from nothing but
// the upload ID it recorded (as the catalog records it): the listed parts
// are the staged ones, only the missing blocks are sent, and the committed
// blob is byte for byte the source.
func TestStore_ResumeAfterKill(t *testing.T) {
	srv := azuritetest.Start(t)
	srv.CreateContainer(t, "kill")
	ctx := context.Background()
	dir := t.TempDir()
	data := make([]byte, killParts*killPartSize-4321)
	rnd := rand.New(rand.NewPCG(5, 6))
	for i := range data {
		data[i] = byte(rnd.Uint32())
	}
	dataPath, idPath := filepath.Join(dir, "data"), filepath.Join(dir, "upload-id")
	if err := os.WriteFile(dataPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestStore_StageBlocksUntilKilled$", "-test.count=1")
	cmd.Env = append(os.Environ(), envChild+"=1", envEndpoint+"="+srv.Endpoint, envAccount+"="+srv.Account,
		envKey+"="+srv.Key, envData+"="+dataPath, envUpload+"="+idPath)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	st := newStore(t, srv, "kill", "")
	var id string
	deadline := time.Now().Add(2 * time.Minute) // a hang guard
	for {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the helper staged no 3 blocks in time; its output:\n%s", out.String())
		}
		if b, err := os.ReadFile(idPath); err == nil && len(b) > 0 {
			id = string(b)
			if parts, err := st.ListParts(ctx, "big.bin", id); err == nil && len(parts) >= 3 {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	c := &counter{next: http.DefaultTransport}
	resumed, err := New(ctx, Config{Account: srv.Account, Key: srv.Key, Endpoint: srv.Endpoint, Container: "kill",
		HTTPClient: &http.Client{Transport: c}})
	if err != nil {
		t.Fatal(err)
	}
	listed, err := resumed.ListParts(ctx, "big.bin", id)
	if err != nil {
		t.Fatalf("ListParts after kill -9: %v", err)
	}
	if len(listed) < 3 || len(listed) == killParts {
		t.Fatalf("ListParts after kill -9: %d parts, want some but not all of %d", len(listed), killParts)
	}
	part := func(n int) []byte { return data[n*killPartSize : min((n+1)*killPartSize, len(data))] }
	parts := make([]fs.Part, killParts)
	have := map[int]bool{}
	for _, p := range listed {
		if p.ETag != resumed.PartETag(md5sum(part(p.Number)), p.Size) {
			t.Errorf("staged part %d has ETag %s, not the source's", p.Number, p.ETag)
		}
		parts[p.Number], have[p.Number] = p, true
	}
	for n := 0; n < killParts; n++ {
		if have[n] {
			continue
		}
		p, err := resumed.UploadPart(ctx, "big.bin", id, n, bytes.NewReader(part(n)), int64(len(part(n))))
		if err != nil {
			t.Fatalf("UploadPart %d: %v", n, err)
		}
		parts[n] = p
	}
	if got, want := c.staged.Load(), int64(killParts-len(listed)); got != want {
		t.Errorf("the resume staged %d blocks, want the %d missing", got, want)
	}
	if _, err := resumed.CompleteMultipart(ctx, "big.bin", id, parts); err != nil {
		t.Fatalf("CompleteMultipart: %v", err)
	}
	got, err := readBack(srv, "kill", "")(ctx, "big.bin")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %d bytes, %v; want the %d source bytes", len(got), err, len(data))
	}
	t.Logf("killed after %d of %d blocks; resumed with %d", len(listed), killParts, c.staged.Load())
}

// TestStore_StageBlocksUntilKilled is the helper process of
// TestStore_ResumeAfterKill (skipped otherwise): it starts an upload,
// records its ID, and stages the blocks but the last one by one, slowly,
// then waits to be killed.
func TestStore_StageBlocksUntilKilled(t *testing.T) {
	if os.Getenv(envChild) == "" {
		t.Skip("the helper process of TestStore_ResumeAfterKill")
	}
	ctx := context.Background()
	data, err := os.ReadFile(os.Getenv(envData))
	if err != nil {
		t.Fatal(err)
	}
	st, err := New(ctx, Config{Account: os.Getenv(envAccount), Key: os.Getenv(envKey), Endpoint: os.Getenv(envEndpoint), Container: "kill"})
	if err != nil {
		t.Fatal(err)
	}
	up, err := st.CreateMultipart(ctx, "big.bin", int64(len(data)), killPartSize)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(os.Getenv(envUpload), []byte(up.ID), 0o600); err != nil {
		t.Fatal(err)
	}
	// Every block but the last, however slow the machine: the kill lands
	// with part of the object staged.
	for n := 0; n < killParts-1; n++ {
		p := data[n*killPartSize : min((n+1)*killPartSize, len(data))]
		if _, err := st.UploadPart(ctx, "big.bin", up.ID, n, bytes.NewReader(p), int64(len(p))); err != nil {
			t.Fatalf("UploadPart %d: %v", n, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Minute)
	t.Fatal("not killed")
}
