package us3_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/test/us3emu"
)

// TestStore_Archive: an ARCHIVE object walks and stats with Entry.Archive
// set (class ARCHIVE), GETs of it are refused, Restore (PUT ?restore)
// starts a thaw that the entry shows as Restoring, and after the
// emulator's restore delay it is readable (zero Archive) with its bytes.
func TestStore_Archive(t *testing.T) {
	srv, endpoint := us3emu.StartForTest(t, us3emu.Options{
		PublicKey: testPub, PrivateKey: testPriv, Buckets: []string{testBucket}, RestoreDelay: 500 * time.Millisecond,
	})
	e := &emu{srv: srv, endpoint: endpoint}
	e.sdkPut(t, "cold.bin", []byte("frozen"))
	e.sdkPut(t, "warm.bin", []byte("sunny"))
	if err := e.sdk(t).ClassSwitch("cold.bin", "ARCHIVE"); err != nil {
		t.Fatal(err)
	}
	st := e.store(t, "")
	ctx := context.Background()
	walked := map[string]fs.Entry{}
	if err := st.Walk(ctx, fs.All, func(en fs.Entry) error { walked[en.Path] = en; return nil }); err != nil {
		t.Fatal(err)
	}
	if walked["cold.bin"].Archive != (fs.Archive{Class: "ARCHIVE"}) || walked["warm.bin"].Archived() {
		t.Fatalf("walked archive states: cold %+v, warm %+v", walked["cold.bin"].Archive, walked["warm.bin"].Archive)
	}
	if _, err := e.sdkGet(t, "cold.bin"); err == nil {
		t.Fatal("GET of an ARCHIVE object that was never restored succeeded")
	}
	if err := st.Restore(ctx, walked["cold.bin"], fs.RestoreOptions{}); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if en, err := st.Stat(ctx, "cold.bin"); err != nil || en.Archive != (fs.Archive{Class: "ARCHIVE", Restoring: true}) {
		t.Fatalf("Stat while thawing = %+v, %v; want restoring", en.Archive, err)
	}
	time.Sleep(600 * time.Millisecond)
	en, err := st.Stat(ctx, "cold.bin")
	if err != nil || en.Archived() {
		t.Fatalf("Stat after the thaw = %+v, %v; want readable", en.Archive, err)
	}
	f, err := st.OpenEntry(ctx, en)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.NewSectionReader(f, 0, en.Size))
	if err != nil || string(b) != "frozen" {
		t.Fatalf("read after the thaw = %q, %v", b, err)
	}
}
