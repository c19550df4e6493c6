package e2e

import (
	"context"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/test/miniotest"
)

// TestMaster_ScheduledSyncDelete: a scheduled job with --delete, from
// MinIO into the US3 emulator, removes from the destination the objects
// that vanished from the source, and only those: after the next run the
// destination holds exactly the source, byte for byte.
func TestMaster_ScheduledSyncDelete(t *testing.T) {
	ctx := context.Background()
	mi := miniotest.Start(t)
	mi.CreateBucket(t, "src")
	dir := t.TempDir()
	want := smallTree(t, dir, "s", 120, 40, 31)
	uploadTreeS3(t, mi.Client(), "src", "", dir)
	e := startEmu(t, "dst")
	m := startMasterProc(t, freeAddr(t), filepath.Join(t.TempDir(), "master.db"))
	vars := minioEnv(mi, "FERRY_SRC_")
	for k, v := range e.env() {
		vars[k] = v
	}
	id := createJob(t, m, vars, "--from", "s3://src/s", "--to", "us3://dst/mirror/s", "--schedule", "@every 2s", "--delete")
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
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got := e.readBack(t, "dst", "mirror/")
		if reflect.DeepEqual(got, want) {
			break
		}
		if time.Now().After(deadline) {
			compareSums(t, "US3 after the source lost a third of its objects", want, got)
			t.Fatal("the destination never matched the source")
		}
		time.Sleep(500 * time.Millisecond)
	}
	// The runs after that copy nothing: nothing was lost or re-created.
	v := waitJob(t, m, id, "run once more", time.Minute, func(v agent.JobView) bool {
		return len(v.Runs) >= 2 && v.Runs[len(v.Runs)-1].Unchanged == int64(len(want))
	})
	if last := v.Runs[len(v.Runs)-1]; last.Copied != 0 || last.Failed != 0 {
		t.Fatalf("a run after the deletions = %+v, want nothing copied or failed", last)
	}
}
