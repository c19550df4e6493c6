package us3

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/internal/stall/stalltest"
)

// TestStore_Stalled: a server that stops sending a GET's body, or stops
// taking a PUT's body, does not hold the caller: once no byte has moved
// for the stall timeout the request fails with stall.ErrStalled, an error
// the engine retries.
func TestStore_Stalled(t *testing.T) {
	srv := stalltest.Server(t)
	st, err := New(context.Background(), Config{PublicKey: "p", PrivateKey: "k", Bucket: "b", Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	st.stall = 200 * time.Millisecond

	f, err := st.OpenEntry(context.Background(), fs.Entry{Path: "k", Size: stalltest.BodySize})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stalltest.Check(t, func() error {
		_, err := f.ReadAt(make([]byte, stalltest.BodySize), 0)
		return err
	}, func(body io.ReadSeeker, size int64) error {
		_, err := st.Put(context.Background(), "k", body, size)
		return err
	}, st.IsPermanent)
}
