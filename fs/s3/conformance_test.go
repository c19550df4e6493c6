package s3

import (
	"strings"
	"testing"

	md5simd "github.com/minio/md5-simd"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/fstest"
	"github.com/ferry-project/ferry/fs/sinktest"
	"github.com/ferry-project/ferry/test/miniotest"
)

// TestStore_Tree runs the Tree conformance suite on MinIO: at the bucket
// root with tiny listing pages (every listing paginates), and under a
// prefix with decoy keys beside and above it that must stay invisible.
// (MinIO cannot hold a key "data/set" beside keys under "data/set/": its
// listings then lose the latter, so that decoy is not used.)
func TestStore_Tree(t *testing.T) {
	srv := miniotest.Start(t)
	files := fstest.Fixture()

	srv.CreateBucket(t, "root")
	upload(t, srv, "root", files)
	t.Run("Root", func(t *testing.T) {
		st := newStore(t, srv, "root", "")
		st.pageSize = 7
		fstest.Run(t, files, st)
	})

	srv.CreateBucket(t, "pfx")
	under := make(map[string][]byte, len(files)+4)
	for k, v := range files {
		under["data/set/"+k] = v
	}
	under["data/set/"] = nil // the prefix's own folder marker: not a file of the tree
	under["data/set.txt"] = []byte("sorts before the prefix's keys")
	under["data/set-b/x.txt"] = []byte("a sibling prefix")
	under["data/other.txt"] = []byte("above the prefix")
	upload(t, srv, "pfx", under)
	t.Run("Prefix", func(t *testing.T) {
		fstest.Run(t, files, newStore(t, srv, "pfx", "/data/set"))
	})
}

// TestStore_Sink runs the Sink conformance suite on MinIO, under a prefix,
// reading back through an independent client.
func TestStore_Sink(t *testing.T) {
	srv := miniotest.Start(t)
	srv.CreateBucket(t, "sink")
	st := newStore(t, srv, "sink", "dst/")
	// Parts of 1 MiB and more are hashed in SIMD lanes, as ferry does.
	st.md5 = md5simd.NewServer()
	t.Cleanup(st.md5.Close)
	sinktest.Run(t, st, readBack(srv, "sink", "dst/"))
	if got := walkAll(t, newStore(t, srv, "sink", ""), fs.All); len(got) == 0 {
		t.Fatal("sink suite stored nothing")
	} else {
		for _, e := range got {
			if !strings.HasPrefix(e.ObjectKey(), "dst/") {
				t.Errorf("sink wrote %q outside its prefix dst/", e.ObjectKey())
			}
		}
	}
}
