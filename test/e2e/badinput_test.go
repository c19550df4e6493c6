package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMigrate_BadInput checks that each bad input gives one clear line on
// stderr, a non-zero exit, and writes nothing: no object at the
// destination and no catalog (or the corrupt one left byte for byte).
func TestMigrate_BadInput(t *testing.T) {
	src := t.TempDir()
	makeTree(t, src, treeSpec{small: 20, seed: 5})
	e := startEmu(t, "dst")
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.db")
	garbage := bytes.Repeat([]byte("not a database "), 100)
	if err := os.WriteFile(corrupt, garbage, 0o644); err != nil {
		t.Fatal(err)
	}
	wrongKey := e.env()
	wrongKey["US3_PRIVATE_KEY"] = "wrong-private-key"
	cases := []struct {
		name string
		env  map[string]string
		to   string
		cat  string
		want string
	}{
		{"unknown scheme", e.env(), "ftp://host/x", "", "unknown scheme"},
		{"missing credentials", map[string]string{"US3_ENDPOINT": e.endpoint}, "us3://dst/x", "", "credentials"},
		{"wrong keys", wrongKey, "us3://dst/x", "", "access denied"},
		{"missing bucket", e.env(), "us3://nosuchbucket/x", "", "does not exist"},
		{"corrupt catalog", e.env(), "us3://dst/x", corrupt, "not a Ferry catalog"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cat := c.cat
			if cat == "" {
				cat = filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".db")
			}
			e.resetStats(t)
			r := ferry(t, c.env, "migrate", "run", "--from", src, "--to", c.to, "--catalog", cat)
			checkOneLineError(t, r, c.want)
			s := e.stats(t)
			if n := s.Succeeded["PutFile"] + s.Succeeded["UploadPart"] + s.Succeeded["InitiateMultipart"]; n != 0 {
				t.Fatalf("%d write requests reached the destination", n)
			}
			if c.cat == "" {
				if _, err := os.Stat(cat); !os.IsNotExist(err) {
					t.Fatalf("a catalog was created: %v", err)
				}
			} else if b, _ := os.ReadFile(cat); !bytes.Equal(b, garbage) {
				t.Fatal("the corrupt catalog was modified")
			}
		})
	}

	t.Run("catalog in use", func(t *testing.T) {
		cat := filepath.Join(dir, "busy.db")
		slow := exec.Command(bins.ferry, "migrate", "run", "--from", src, "--to", "us3://dst/busy/", "--catalog", cat, "--bwlimit", "1K")
		slow.Env = ferryEnv(e.env())
		if err := slow.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = slow.Process.Kill(); _ = slow.Wait() }()
		for i := 0; i < 100; i++ {
			if _, err := os.Stat(cat); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		r := ferry(t, e.env(), "migrate", "run", "--from", src, "--to", "us3://dst/busy/", "--catalog", cat)
		checkOneLineError(t, r, "in use by another ferry process")
	})

	t.Run("usage", func(t *testing.T) {
		r := ferry(t, e.env(), "migrate", "run", "--from", src)
		checkOneLineError(t, r, "needs --from and --to")
		if r.code != 2 {
			t.Fatalf("exit %d, want 2 for a usage error", r.code)
		}
	})
}

// checkOneLineError fails unless r failed with exactly one stderr line
// containing want, and that line holds no secret.
func checkOneLineError(t *testing.T, r result, want string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code == 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "ferry: ") || !strings.Contains(lines[0], want) {
		t.Fatalf("exit %d, stderr %q: want a non-zero exit and one line 'ferry: …%s…'", r.code, r.stderr, want)
	}
	for _, secret := range []string{"e2e-private-key", "wrong-private-key"} {
		if strings.Contains(r.stderr+r.stdout, secret) {
			t.Fatalf("output leaks a secret: %q", r.stderr)
		}
	}
}
