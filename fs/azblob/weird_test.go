package azblob

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/test/azuritetest"
)

// TestStore_FolderBlobs: the directory blobs of a hierarchical-namespace
// account (zero bytes, hdi_isfolder=true) are directories, never files.
func TestStore_FolderBlobs(t *testing.T) {
	srv := azuritetest.Start(t)
	srv.CreateContainer(t, "hns")
	ctx := context.Background()
	cc := srv.Client().NewContainerClient("hns")
	yes := "true"
	if _, err := cc.NewBlockBlobClient("dir").UploadBuffer(ctx, nil, &blockblob.UploadBufferOptions{Metadata: map[string]*string{"hdi_isfolder": &yes}}); err != nil {
		t.Fatal(err)
	}
	upload(t, srv, "hns", map[string][]byte{"dir/f.txt": []byte("f")})
	st := newStore(t, srv, "hns", "")
	if got := keys(walkAll(t, st, fs.All)); !slices.Equal(got, []string{"dir/f.txt"}) {
		t.Errorf("Walk = %q, want just dir/f.txt", got)
	}
	var root []fs.Entry
	if err := st.ReadDir(ctx, "", func(e fs.Entry) error { root = append(root, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(root) != 1 || root[0].Path != "dir" || !root[0].IsDir() {
		t.Errorf("ReadDir(root) = %+v, want the directory dir alone", root)
	}
}

// TestStore_LeasedDestination: a destination blob held by a lease refuses a
// Put with 412; that is not a changed source (fs.ErrChanged), and it is
// permanent.
func TestStore_LeasedDestination(t *testing.T) {
	srv := azuritetest.Start(t)
	srv.CreateContainer(t, "leased")
	upload(t, srv, "leased", map[string][]byte{"held.txt": []byte("held")})
	ctx := context.Background()
	lc, err := lease.NewBlobClient(srv.Client().NewContainerClient("leased").NewBlobClient("held.txt"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lc.AcquireLease(ctx, -1, nil); err != nil {
		t.Fatal(err)
	}
	st := newStore(t, srv, "leased", "")
	data := []byte("new")
	_, err = st.Put(ctx, "held.txt", bytes.NewReader(data), int64(len(data)))
	if err == nil {
		t.Fatal("Put over a leased blob: no error")
	}
	t.Logf("Put over a leased blob: %v", err)
	if errors.Is(err, fs.ErrChanged) || !st.IsPermanent(err) {
		t.Errorf("Put over a leased blob = %v: want permanent, not fs.ErrChanged", err)
	}
}
