package azblob

import (
	"strings"
	"testing"

	md5simd "github.com/minio/md5-simd"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/fstest"
	"github.com/ferry-project/ferry/fs/sinktest"
	"github.com/ferry-project/ferry/test/azuritetest"
)

// TestStore_Tree runs the Tree conformance suite on Azurite: at a
// container's root with tiny listing pages (every listing paginates), and
// under a prefix with decoy blobs beside and above it that must stay
// invisible.
func TestStore_Tree(t *testing.T) {
	srv := azuritetest.Start(t)
	files := fstest.Fixture()

	srv.CreateContainer(t, "root")
	upload(t, srv, "root", files)
	t.Run("Root", func(t *testing.T) {
		st := newStore(t, srv, "root", "")
		st.pageSize = 7
		fstest.Run(t, files, st)
	})

	srv.CreateContainer(t, "pfx")
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

// TestStore_Sink runs the Sink conformance suite on Azurite, under a
// prefix, reading back through the SDK.
func TestStore_Sink(t *testing.T) {
	srv := azuritetest.Start(t)
	srv.CreateContainer(t, "sink")
	st := newStore(t, srv, "sink", "dst/")
	st.md5 = md5simd.NewServer() // parts of 1 MiB and more hashed in SIMD lanes, as ferry does
	t.Cleanup(st.md5.Close)
	sinktest.Run(t, st, readBack(srv, "sink", "dst/"))
	got := walkAll(t, newStore(t, srv, "sink", ""), fs.All)
	if len(got) == 0 {
		t.Fatal("sink suite stored nothing")
	}
	for _, e := range got {
		if !strings.HasPrefix(e.ObjectKey(), "dst/") {
			t.Errorf("sink wrote %q outside its prefix dst/", e.ObjectKey())
		}
	}
}
