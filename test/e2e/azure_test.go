package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ferry-project/ferry/test/azuritetest"
)

// azureEnv returns the variables that reach a's account (its key and
// endpoint), with an optional FERRY_SRC_/FERRY_DST_ prefix.
func azureEnv(a *azuritetest.Server, prefix string) map[string]string {
	return map[string]string{prefix + "AZURE_STORAGE_KEY": a.Key, prefix + "AZURE_STORAGE_ENDPOINT": a.Endpoint}
}

// uploadTreeAzure puts every file of dir into container/prefix with the SDK.
func uploadTreeAzure(t testing.TB, a *azuritetest.Server, ctr, prefix, dir string) {
	t.Helper()
	cc := a.Client().NewContainerClient(ctr)
	for rel := range hashDir(t, dir) {
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cc.NewBlockBlobClient(prefix+rel).UploadBuffer(context.Background(), data, nil); err != nil {
			t.Fatalf("upload %s: %v", rel, err)
		}
	}
}

// readBackAzure downloads every blob of container/prefix with the SDK.
func readBackAzure(t testing.TB, a *azuritetest.Server, ctr, prefix string) map[string][32]byte {
	t.Helper()
	cc := a.Client().NewContainerClient(ctr)
	var keys []string
	pager := cc.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &prefix})
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list %s/%s: %v", ctr, prefix, err)
		}
		for _, b := range page.Segment.BlobItems {
			keys = append(keys, *b.Name)
		}
	}
	return hashAll(t, keys, prefix, func() func(key string, w io.Writer) error {
		return func(key string, w io.Writer) error {
			resp, err := cc.NewBlobClient(key).DownloadStream(context.Background(), nil)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, err = io.Copy(w, resp.Body)
			return err
		}
	})
}

// TestAzure_Sources: azblob:// from the CLI — a container to the US3
// emulator, a directory into a container (FERRY_DST_ credentials), a whole
// account as a source, and a mounted container, all byte for byte.
func TestAzure_Sources(t *testing.T) {
	src, want := sourceTree(t)
	a := azuritetest.Start(t)
	a.CreateContainer(t, "src")
	uploadTreeAzure(t, a, "src", "data/", src)
	u := "azblob://" + a.Account

	t.Run("Azure to US3", func(t *testing.T) {
		e := startEmu(t, "dst")
		vars := azureEnv(a, "")
		for k, v := range e.env() {
			vars[k] = v
		}
		cat := filepath.Join(t.TempDir(), "c.db")
		mustFerry(t, vars, "migrate", "run", "--from", u+"/src/data", "--to", "us3://dst/q/", "--catalog", cat)
		compareSums(t, "US3 copy of an Azure container", want, e.readBack(t, "dst", "q/"))
		if r := mustFerry(t, vars, "migrate", "run", "--from", u+"/src/data", "--to", "us3://dst/q/", "--catalog", cat); !strings.Contains(r.stdout, "nothing to copy") {
			t.Fatalf("second run: %s", r.stdout)
		}
	})
	t.Run("directory to Azure", func(t *testing.T) {
		a.CreateContainer(t, "dst")
		mustFerry(t, azureEnv(a, "FERRY_DST_"), "migrate", "run", "--from", src, "--to", u+"/dst/copy", "--catalog", filepath.Join(t.TempDir(), "c.db"))
		compareSums(t, "Azure copy of a directory", want, readBackAzure(t, a, "dst", "copy/"))
	})
	t.Run("whole account to a directory", func(t *testing.T) {
		out := t.TempDir()
		mustFerry(t, azureEnv(a, "FERRY_SRC_"), "migrate", "run", "--from", u+"/", "--to", out, "--catalog", filepath.Join(t.TempDir(), "c.db"))
		got := map[string][32]byte{}
		for k, v := range hashDir(t, filepath.Join(out, "src", "data")) {
			got[k] = v
		}
		compareSums(t, "directory copy of an account's container src", want, got)
		if _, err := os.Stat(filepath.Join(out, "dst", "copy")); err != nil {
			t.Fatalf("the account's other container was not copied: %v", err)
		}
	})
	t.Run("mount", func(t *testing.T) {
		if _, err := os.Stat("/dev/fuse"); err != nil {
			t.Fatalf("/dev/fuse is missing: FUSE tests need it (%v)", err)
		}
		checkMount(t, mountSource(t, azureEnv(a, ""), u+"/src/data"), want)
	})
}

// blockCounter is a loopback reverse proxy in front of Azurite that counts
// the Put Block requests it forwards.
type blockCounter struct {
	srv   *httptest.Server
	puts  atomic.Int64
	base  string
	token string
}

func startBlockCounter(t testing.TB, a *azuritetest.Server) *blockCounter {
	target, err := url.Parse(a.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	bc := &blockCounter{}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(&url.URL{Scheme: target.Scheme, Host: target.Host})
		r.Out.Host = target.Host
	}}
	bc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.URL.Query().Get("comp") == "block" {
			bc.puts.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(bc.srv.Close)
	bc.base = bc.srv.URL + target.Path
	return bc
}

// stagedParts counts the uncommitted part blocks (not markers) of a blob.
func stagedParts(t testing.TB, a *azuritetest.Server, ctr, key string) int {
	t.Helper()
	bl, err := a.Client().NewContainerClient(ctr).NewBlockBlobClient(key).GetBlockList(context.Background(), blockblob.BlockListTypeUncommitted, nil)
	if err != nil {
		return 0 // not staged yet
	}
	n := 0
	for _, b := range bl.UncommittedBlocks {
		raw, err := base64.StdEncoding.DecodeString(*b.Name)
		if err != nil {
			t.Fatalf("block ID %q: %v", *b.Name, err)
		}
		if parts := strings.Split(string(raw), "."); len(parts) == 4 && parts[2] != "create" && parts[2] != "abort_" {
			n++
		}
	}
	return n
}

// TestAzure_KillAndResume: kill -9 in the middle of a block upload; the
// next run stages only the missing blocks (counted on the wire in front of
// Azurite) and commits the blob byte for byte.
func TestAzure_KillAndResume(t *testing.T) {
	src := t.TempDir()
	want := makeTree(t, src, treeSpec{large: []int{80 << 20}, seed: 5}) // 10 blocks of 8 MiB
	var name string
	for k := range want {
		name = k
	}
	a := azuritetest.Start(t)
	a.CreateContainer(t, "dst")
	cat := filepath.Join(t.TempDir(), "cat.db")
	args := []string{"migrate", "run", "--from", src, "--to", "azblob://" + a.Account + "/dst/", "--catalog", cat, "--part-size", "8MiB"}
	cmd := exec.Command(bins.ferry, append(args, "--bwlimit", "16MiB", "--workers", "2")...)
	cmd.Env = ferryEnv(azureEnv(a, ""))
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for stagedParts(t, a, "dst", name) < 3 {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the migration never staged 3 blocks: %s", tail(errb.String(), 2000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	held := stagedParts(t, a, "dst", name)
	if held < 3 || held >= 10 {
		t.Fatalf("after kill -9: %d blocks staged, want a half-done upload", held)
	}

	bc := startBlockCounter(t, a)
	vars := azureEnv(a, "")
	vars["AZURE_STORAGE_ENDPOINT"] = bc.base
	mustFerry(t, vars, args...)
	if got := bc.puts.Load(); got != int64(10-held) {
		t.Fatalf("resumed run staged %d blocks, want exactly the %d missing ones (%d were held)", got, 10-held, held)
	}
	compareSums(t, "Azure after resume", want, readBackAzure(t, a, "dst", ""))
}
