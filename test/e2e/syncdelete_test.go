package e2e

import (
	"context"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/test/miniotest"
)

// startScheduledSync stores smallTree(n, perDir, seed) under s/ in a MinIO
// bucket src, and creates a job that mirrors it every 2s into us3://dst/mirror/s
// on a fresh emulator, with extra job options; it returns the servers, the
// job ID and the tree's sums. No agent runs yet.
func startScheduledSync(t *testing.T, n, perDir int, seed uint64, extra ...string) (*miniotest.Server, *emu, *masterProc, string, map[string][32]byte) {
	t.Helper()
	mi := miniotest.Start(t)
	mi.CreateBucket(t, "src")
	dir := t.TempDir()
	want := smallTree(t, dir, "s", n, perDir, seed)
	uploadTreeS3(t, mi.Client(), "src", "", dir)
	e := startEmu(t, "dst")
	m := startMasterProc(t, freeAddr(t), filepath.Join(t.TempDir(), "master.db"))
	vars := minioEnv(mi, "FERRY_SRC_")
	for k, v := range e.env() {
		vars[k] = v
	}
	args := append([]string{"--from", "s3://src/s", "--to", "us3://dst/mirror/s", "--schedule", "@every 2s"}, extra...)
	return mi, e, m, createJob(t, m, vars, args...), want
}

// TestMaster_ScheduledSyncDelete: a scheduled job with --delete, from
// MinIO into the US3 emulator, removes from the destination the objects
// that vanished from the source, and only those: after the next run the
// destination holds exactly the source, byte for byte.
func TestMaster_ScheduledSyncDelete(t *testing.T) {
	ctx := context.Background()
	mi, e, m, id, want := startScheduledSync(t, 120, 40, 31, "--delete")
	startAgent(t, m, "d1", nil)
	waitJob(t, m, id, "done once", time.Minute, func(v agent.JobView) bool { return len(v.Runs) >= 1 })
	compareSums(t, "US3 after the first run", want, e.readBack(t, "dst", "mirror/"))

	// Remove every third object at the source, across all three directories.
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i%3 != 0 {
			continue
		}
		if _, err := mi.Client().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("src"), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
		delete(want, k)
	}
	// A run that starts after the deletions removes what vanished. Reading
	// the destination back while a run deletes would race with it (a key
	// listed, then gone), so it is read once that run has finished.
	deleted := time.Now()
	waitJob(t, m, id, "run after the deletions", 2*time.Minute, func(v agent.JobView) bool {
		for _, r := range v.Runs {
			if r.StartedAt.After(deleted) && !r.FinishedAt.IsZero() {
				return true
			}
		}
		return false
	})
	compareSums(t, "US3 after the source lost a third of its objects", want, e.readBack(t, "dst", "mirror/"))
	// The runs after that copy nothing: nothing was lost or re-created.
	v := waitJob(t, m, id, "run once more", time.Minute, func(v agent.JobView) bool {
		return len(v.Runs) >= 2 && v.Runs[len(v.Runs)-1].Unchanged == int64(len(want))
	})
	if last := v.Runs[len(v.Runs)-1]; last.Copied != 0 || last.Failed != 0 {
		t.Fatalf("a run after the deletions = %+v, want nothing copied or failed", last)
	}
}
