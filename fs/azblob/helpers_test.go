package azblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/test/azuritetest"
)

// newStore returns a Store on srv's account with its shared key, over
// container and prefix ("" container: the whole account).
func newStore(t *testing.T, srv *azuritetest.Server, container, prefix string) *Store {
	t.Helper()
	st, err := New(context.Background(), Config{Account: srv.Account, Key: srv.Key, Endpoint: srv.Endpoint,
		Container: container, Prefix: prefix})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := st.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	return st
}

// upload stores files (key → content) in container with the SDK's own
// single-request upload, independently of the code under test.
func upload(t *testing.T, srv *azuritetest.Server, container string, files map[string][]byte) {
	t.Helper()
	cc := srv.Client().NewContainerClient(container)
	for k, v := range files {
		if _, err := cc.NewBlockBlobClient(k).UploadBuffer(context.Background(), v, nil); err != nil {
			t.Fatalf("upload %q: %v", k, err)
		}
	}
}

// readBack reads blob prefix+key of container through the SDK; a missing
// blob wraps fs.ErrNotExist.
func readBack(srv *azuritetest.Server, container, prefix string) func(ctx context.Context, key string) ([]byte, error) {
	return func(ctx context.Context, key string) ([]byte, error) {
		resp, err := srv.Client().NewContainerClient(container).NewBlobClient(prefix+key).DownloadStream(ctx, nil)
		if err != nil {
			var re *azcore.ResponseError
			if errors.As(err, &re) && re.StatusCode == 404 {
				return nil, fmt.Errorf("read back %q: %w", key, fs.ErrNotExist)
			}
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
}

// walkAll returns every entry Walk yields over r.
func walkAll(t *testing.T, tree fs.Tree, r fs.Range) []fs.Entry {
	t.Helper()
	var got []fs.Entry
	if err := tree.Walk(context.Background(), r, func(e fs.Entry) error {
		got = append(got, e)
		return nil
	}); err != nil {
		t.Fatalf("Walk(%+v): %v", r, err)
	}
	return got
}

// keys returns the object keys of entries.
func keys(es []fs.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ObjectKey()
	}
	return out
}

// uncommitted returns the raw IDs of the uncommitted blocks of a blob.
func uncommitted(t *testing.T, srv *azuritetest.Server, container, name string) []string {
	t.Helper()
	resp, err := srv.Client().NewContainerClient(container).NewBlockBlobClient(name).
		GetBlockList(context.Background(), blockblob.BlockListTypeUncommitted, nil)
	if err != nil {
		t.Fatalf("get block list of %s: %v", name, err)
	}
	var out []string
	for _, b := range resp.UncommittedBlocks {
		pb, ok := parseBlock(*b.Name)
		if !ok {
			t.Fatalf("a block of %s has a foreign ID %q", name, *b.Name)
		}
		out = append(out, fmt.Sprintf("%s/%d", pb.tag, pb.number))
	}
	return out
}

// readAll reads a whole file of size bytes.
func readAll(t *testing.T, f fs.File, size int64) []byte {
	t.Helper()
	got, err := io.ReadAll(io.NewSectionReader(f, 0, size))
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return got
}
