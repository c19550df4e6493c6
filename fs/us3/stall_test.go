package us3

import (
	"context"
	"testing"
	"time"

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
	stalltest.Check(t, st)
}
