//go:build unix

package catalog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// holderEnv names the catalog a child test process opens and holds until
// its stdin closes (see TestOpen_inUseByOtherProcess).
const holderEnv = "FERRY_CATALOG_TEST_HOLD"

func TestMain(m *testing.M) {
	if path := os.Getenv(holderEnv); path != "" {
		os.Exit(holdCatalog(path))
	}
	os.Exit(m.Run())
}

// holdCatalog opens path, commits one object "child", says "held", and
// keeps the catalog open until stdin ends.
func holdCatalog(path string) int {
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	err = db.Write(ctx, func(w *Writer) error {
		if err := w.PutObject(Object{Path: "child", Size: 42, UploadID: "u-1"}); err != nil {
			return err
		}
		return w.AddPart(Part{Path: "child", Number: 1, Size: 21, ETag: "p1"})
	})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("held")
	io.Copy(io.Discard, os.Stdin)
	db.Close()
	return 0
}

// startHolder starts a child process that holds path open (holdCatalog)
// and returns once it has committed its row; closing stdin ends it.
func startHolder(t *testing.T, path string) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// atexit_sleep_ms=0: a -race child would otherwise linger a second at exit.
	cmd.Env = append(os.Environ(), holderEnv+"="+path, "GORACE=atexit_sleep_ms=0")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "held\n" {
		stdin.Close()
		cmd.Wait()
		t.Fatalf("child said %q, %v", line, err)
	}
	return cmd, stdin
}

func TestOpen_inUseByOtherProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cat.db")
	cmd, stdin := startHolder(t, path)
	_, err := Open(ctx, path)
	if !errors.Is(err, ErrInUse) {
		t.Errorf("Open while another process holds it = %v, want ErrInUse", err)
	}
	// Readers are welcome while the other process writes.
	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Errorf("OpenReadOnly while held: %v", err)
	} else {
		if o, ok, err := ro.Get(ctx, "child"); err != nil || !ok || o.Size != 42 {
			t.Errorf("read-only Get(child) while held = %+v, %v, %v", o, ok, err)
		}
		ro.Close()
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open after the other process exited: %v", err)
	}
	db.Close()
}

func TestOpen_afterWriterKilled(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cat.db")
	cmd, stdin := startHolder(t, path)
	defer stdin.Close()
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no Close, WAL left behind
		t.Fatal(err)
	}
	cmd.Wait()
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("expected a WAL left by the killed writer: %v", err)
	}
	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatalf("OpenReadOnly after kill: %v", err)
	}
	if o, ok, err := ro.Get(ctx, "child"); err != nil || !ok || o.Size != 42 || o.UploadID != "u-1" {
		t.Errorf("read-only Get(child) = %+v, %v, %v", o, ok, err)
	}
	ro.Close()
	db, err := Open(ctx, path) // the kernel released the dead writer's flock
	if err != nil {
		t.Fatalf("Open after kill: %v", err)
	}
	defer db.Close()
	if parts, err := db.Parts(ctx, "child"); err != nil || len(parts) != 1 || parts[0].ETag != "p1" {
		t.Errorf("Parts(child) after kill = %v, %v", parts, err)
	}
}
