package us3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/us3"
	"github.com/ferry-project/ferry/test/us3emu"
)

// noKeys fails the test when an error message reveals a credential.
func noKeys(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil && (strings.Contains(err.Error(), testPub) || strings.Contains(err.Error(), testPriv)) {
		t.Errorf("%s: error %q reveals a key", what, err)
	}
}

func TestStore_Check(t *testing.T) {
	t.Parallel()
	e := startEmu(t, 0)
	ctx := context.Background()
	if err := e.store(t, "any/prefix").Check(ctx); err != nil {
		t.Fatalf("Check with good keys: %v", err)
	}

	bad, err := us3.New(ctx, us3.Config{PublicKey: testPub, PrivateKey: "WRONG" + testPriv, Bucket: testBucket, Endpoint: e.endpoint})
	if err != nil {
		t.Fatal(err)
	}
	err = bad.Check(ctx)
	if err == nil || !strings.Contains(err.Error(), "US3 access denied (check US3_PUBLIC_KEY/US3_PRIVATE_KEY)") {
		t.Errorf("Check with a wrong private key: %v, want access denied", err)
	}
	noKeys(t, "Check with a wrong private key", err)
	_, err = bad.Put(ctx, "k", strings.NewReader("x"), 1)
	if !errors.Is(err, fs.ErrPermission) || !bad.IsPermanent(err) {
		t.Errorf("Put with a wrong private key: %v, want a permanent fs.ErrPermission", err)
	}
	noKeys(t, "Put with a wrong private key", err)

}

// TestStore_CheckMissingBucket checks the message for a bucket the service
// does not have. The emulator routes a Host naming an unknown bucket to its
// first bucket (so it answers 403 for the signature), so the answer US3
// documents for a missing bucket (404, RetCode -30010) comes from a plain
// loopback HTTP server here.
func TestStore_CheckMissingBucket(t *testing.T) {
	t.Parallel()
	srv, ep := us3emu.StartForTest(t, us3emu.Options{PublicKey: testPub, PrivateKey: testPriv, Buckets: []string{"present"}})
	ctx := context.Background()
	missing, err := us3.New(ctx, us3.Config{PublicKey: testPub, PrivateKey: testPriv, Bucket: "no-such-bucket", Endpoint: ep})
	if err != nil {
		t.Fatal(err)
	}
	err = missing.Check(ctx)
	if err == nil || !strings.Contains(err.Error(), "US3 bucket no-such-bucket does not exist") {
		t.Errorf("Check of a bucket the service lacks: %v, want \"US3 bucket no-such-bucket does not exist\"", err)
	}
	noKeys(t, "Check of a missing bucket", err)
	if n := srv.Stats().Requests["Unknown"]; n != 1 {
		t.Errorf("the emulator saw %d requests for an unknown bucket, want the one Check sent", n)
	}
	err = missing.Walk(ctx, fs.All, func(fs.Entry) error { return nil })
	if err == nil || errors.Is(err, fs.ErrNotExist) || !missing.IsPermanent(err) {
		t.Errorf("Walk in a missing bucket: %v, want a permanent error that is not fs.ErrNotExist", err)
	}
}

// TestStore_Faults drives the Sink and the Tree through an emulator that
// fails 20% of requests with 5xx and drops 5% of connections: every error
// must be classified transient, and what did succeed must be intact.
func TestStore_Faults(t *testing.T) {
	t.Parallel()
	e := startEmu(t, 0)
	s := e.store(t, "faults")
	ctx := context.Background()
	for _, k := range []string{"f01", "f02"} {
		if _, err := s.Put(ctx, k, strings.NewReader(k), 3); err != nil {
			t.Fatal(err)
		}
	}
	e.srv.SetFaults(us3emu.Faults{ErrorRate: 0.2, DropRate: 0.05})
	var failures int
	check := func(what string, err error) bool {
		t.Helper()
		if err == nil {
			return true
		}
		failures++
		if s.IsPermanent(err) {
			t.Errorf("%s under injected faults: %v classified permanent", what, err)
		}
		noKeys(t, what, err)
		return false
	}
	stored := map[string][]byte{}
	for i := 3; i < 40; i++ {
		key := fmt.Sprintf("f%02d", i)
		data := pattern(i, 1000+i*100)
		if _, err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data))); check("Put", err) {
			stored[key] = data
			_, err := s.Head(ctx, key)
			check("Head", err)
		}
	}
	data := pattern(99, 4<<20+10)
	for i := 0; i < 5; i++ {
		up, err := s.CreateMultipart(ctx, "mp", int64(len(data)), 4<<20)
		if !check("CreateMultipart", err) {
			continue
		}
		_, err = s.UploadPart(ctx, "mp", up.ID, 1, bytes.NewReader(data[4<<20:]), 10)
		check("UploadPart", err)
		_, err = s.ListParts(ctx, "mp", up.ID)
		check("ListParts", err)
		check("AbortMultipart", s.AbortMultipart(ctx, "mp", up.ID))
	}
	for i := 0; i < 10; i++ {
		check("Walk", s.Walk(ctx, fs.All, func(fs.Entry) error { return nil }))
		check("ReadDir", s.ReadDir(ctx, "", func(fs.Entry) error { return nil }))
		_, err := s.Stat(ctx, "f01")
		check("Stat", err)
		if f, err := s.Open(ctx, "f02"); check("Open", err) {
			p := make([]byte, 2)
			if n, err := f.ReadAt(p, 1); check("ReadAt", err) && (n != 2 || string(p) != "02") {
				t.Errorf("ReadAt under faults = %q, want \"02\"", p[:n])
			}
			f.Close()
		}
	}
	if failures == 0 || e.srv.Stats().FaultsInjected == 0 {
		t.Fatalf("no call failed (%d faults injected): the test exercised nothing", e.srv.Stats().FaultsInjected)
	}
	e.srv.SetFaults(us3emu.Faults{})
	for key, want := range stored {
		f, err := s.Open(ctx, key)
		if err != nil {
			t.Errorf("Open(%q) after faults: %v", key, err)
			continue
		}
		got, err := io.ReadAll(io.NewSectionReader(f, 0, int64(len(want))))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%q stored under faults reads back %d bytes, %v; want the %d put", key, len(got), err, len(want))
		}
	}
	t.Logf("%d calls failed, %d objects stored, %d faults injected", failures, len(stored), e.srv.Stats().FaultsInjected)
}
