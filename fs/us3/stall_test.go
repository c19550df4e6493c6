package us3

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/internal/stall"
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
	_, err = f.ReadAt(make([]byte, stalltest.BodySize), 0)
	if !errors.Is(err, stall.ErrStalled) || st.IsPermanent(err) {
		t.Errorf("read from a stalled body: %v (permanent %t), want a transient stall error", err, st.IsPermanent(err))
	}
	big := make([]byte, stalltest.BigBody)
	_, err = st.Put(context.Background(), "k", bytes.NewReader(big), int64(len(big)))
	if !errors.Is(err, stall.ErrStalled) || st.IsPermanent(err) {
		t.Errorf("put to a server that takes no bytes: %v (permanent %t), want a transient stall error", err, st.IsPermanent(err))
	}
}
