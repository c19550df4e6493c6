package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-project/ferry/test/miniotest"
)

// changeTarget is one destination of the rewritten-source test: its URI,
// the variables that reach it, how to tell that an upload is under way
// and how many remain, and how to read it back.
type changeTarget struct {
	to        string
	vars      map[string]string
	uploading func(t *testing.T) bool
	readBack  func(t *testing.T) map[string][32]byte
}

// TestMigrate_SourceRewrittenDuringUpload is the reproduction of a file
// stored spliced: a 16 MiB file is overwritten in place (its first and
// last MiB) while `ferry migrate run --workers 1 --part-size 5MiB
// --bwlimit 4MiB` uploads it. Ferry must notice, discard that upload, copy
// the file again, exit 0 and leave exactly the new version (no part of the
// old one, no upload open); a re-run copies nothing.
func TestMigrate_SourceRewrittenDuringUpload(t *testing.T) {
	targets := map[string]func(t *testing.T) changeTarget{
		"directory": func(t *testing.T) changeTarget {
			dst := t.TempDir()
			return changeTarget{
				to: dst,
				uploading: func(t *testing.T) bool {
					des, _ := os.ReadDir(filepath.Join(dst, ".ferry-uploads"))
					return len(des) > 0
				},
				readBack: func(t *testing.T) map[string][32]byte { return hashDir(t, dst) },
			}
		},
		"minio": func(t *testing.T) changeTarget {
			m := miniotest.Start(t)
			m.CreateBucket(t, "dst")
			return changeTarget{
				to: "s3://dst/p", vars: minioEnv(m, ""),
				uploading: func(t *testing.T) bool {
					out, err := m.Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String("dst")})
					return err == nil && len(out.Uploads) > 0
				},
				readBack: func(t *testing.T) map[string][32]byte { return readBackS3(t, m.Client(), "dst", "p/") },
			}
		},
		"us3": func(t *testing.T) changeTarget {
			e := startEmu(t, "dst")
			return changeTarget{
				to: "us3://dst/p", vars: e.env(),
				uploading: func(t *testing.T) bool { return len(e.uploads(t)) > 0 },
				readBack:  func(t *testing.T) map[string][32]byte { return e.readBack(t, "dst", "p/") },
			}
		},
	}
	for name, mk := range targets {
		t.Run(name, func(t *testing.T) {
			tg := mk(t)
			src := t.TempDir()
			file := filepath.Join(src, "db.bin")
			old := fxBytes(16<<20, 41)
			if err := os.WriteFile(file, old, 0o644); err != nil {
				t.Fatal(err)
			}
			cat := filepath.Join(t.TempDir(), "cat.db")
			args := []string{"migrate", "run", "--from", src, "--to", tg.to, "--catalog", cat,
				"--workers", "1", "--part-size", "5MiB", "--bwlimit", "4MiB", "--verbose"}
			cmd := exec.Command(bins.ferry, args...)
			cmd.Env = ferryEnv(tg.vars)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill() })

			// Once the upload has begun and a part's worth of time has
			// passed, rewrite the head and the tail in place.
			waitFor(t, "the multipart upload to start", 30*time.Second, func() bool { return tg.uploading(t) })
			time.Sleep(1500 * time.Millisecond)
			patch := fxBytes(1<<20, 42)
			rewriteAt(t, file, patch, 0)
			rewriteAt(t, file, patch, int64(len(old)-len(patch)))
			final, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}

			if err := cmd.Wait(); err != nil {
				t.Fatalf("ferry %v: %v\nstdout: %s\nstderr: %s", args, err, stdout.String(), tail(stderr.String(), 3000))
			}
			if !strings.Contains(stdout.String(), "copied 1 object(s)") || !strings.Contains(stdout.String(), "0 failed") {
				t.Fatalf("summary %q, want the object copied", stdout.String())
			}
			if !strings.Contains(stderr.String(), "source changed during copy") {
				t.Errorf("the change was not noticed (no restart logged):\n%s", tail(stderr.String(), 3000))
			}
			got := tg.readBack(t)
			if len(got) != 1 {
				t.Fatalf("destination holds %d objects, want 1", len(got))
			}
			for _, sum := range got {
				switch sum {
				case sha256.Sum256(final):
				case sha256.Sum256(old):
					t.Fatal("destination holds the old version after a run that began before the rewrite ended")
				default:
					t.Fatal("destination holds bytes of no version: a splice of two")
				}
			}
			if tg.uploading(t) {
				t.Error("an upload was left open at the destination")
			}
			r := mustFerry(t, tg.vars, "migrate", "run", "--from", src, "--to", tg.to, "--catalog", cat)
			if !strings.Contains(r.stdout, "nothing to copy") {
				t.Errorf("re-run summary %q, want nothing to copy", r.stdout)
			}
		})
	}
}

// rewriteAt overwrites the file at off in place.
func rewriteAt(t *testing.T, file string, b []byte, off int64) {
	t.Helper()
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond every 20ms until it holds, failing after limit.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
