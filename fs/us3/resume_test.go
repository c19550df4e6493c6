package us3_test

import (
	"bytes"
	"context"
	"github.com/ferry-project/ferry/fs"
	"testing"
)

// TestStore_ResumeMultipart resumes an upload from its ID alone, as a
// restarted agent does: parts 0 and 2 from one Store, the rest from a new
// Store that only knows the upload ID and what ListParts reports.
func TestStore_ResumeMultipart(t *testing.T) {
	t.Parallel()
	e := startEmu(t, 0)
	ctx := context.Background()
	key := "resume/big file.bin"
	data := pattern(42, 8<<20+1000)
	partOf := func(n int, ps int64) []byte {
		return data[int64(n)*ps : min(int64(n+1)*ps, int64(len(data)))]
	}

	first := e.store(t, "")
	up, err := first.CreateMultipart(ctx, key, int64(len(data)), 4<<20)
	if err != nil {
		t.Fatalf("CreateMultipart: %v", err)
	}
	for _, n := range []int{0, 2} {
		d := partOf(n, up.PartSize)
		if _, err := first.UploadPart(ctx, key, up.ID, n, bytes.NewReader(d), int64(len(d))); err != nil {
			t.Fatalf("UploadPart(%d): %v", n, err)
		}
	}
	first = nil // the agent dies; only up.ID survives (in its catalog)

	second := e.store(t, "")
	listed, err := second.ListParts(ctx, key, up.ID)
	if err != nil {
		t.Fatalf("ListParts after restart: %v", err)
	}
	if len(listed) != 2 || listed[0].Number != 0 || listed[1].Number != 2 ||
		listed[0].Size != up.PartSize || listed[1].Size != int64(len(partOf(2, up.PartSize))) {
		t.Fatalf("ListParts after restart = %+v, want exactly parts 0 and 2 with their sizes", listed)
	}
	pending := e.srv.PendingUploads()
	if len(pending) != 1 {
		t.Fatalf("emulator holds %d pending uploads, want 1: %+v", len(pending), pending)
	}
	d1 := partOf(1, up.PartSize)
	p1, err := second.UploadPart(ctx, key, up.ID, 1, bytes.NewReader(d1), int64(len(d1)))
	if err != nil {
		t.Fatalf("UploadPart(1) after restart: %v", err)
	}
	parts := []fs.Part{listed[0], p1, listed[1]}
	info, err := second.CompleteMultipart(ctx, key, up.ID, parts)
	if err != nil {
		t.Fatalf("CompleteMultipart after restart: %v", err)
	}
	if info.Size != int64(len(data)) {
		t.Errorf("completed size %d, want %d", info.Size, len(data))
	}
	got, err := e.sdkGet(t, key)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("SDK download of the resumed object: %d bytes, %v; want the %d uploaded", len(got), err, len(data))
	}
	if !e.sdkETagMatches(t, key, data) {
		t.Errorf("SDK CompareFileEtag of the resumed object = false")
	}
	if p := e.srv.PendingUploads(); len(p) != 0 {
		t.Errorf("pending uploads after completion: %+v", p)
	}
	if _, err := second.ListParts(ctx, key, up.ID); !isNotExist(err) {
		t.Errorf("ListParts of a completed upload: err = %v, want fs.ErrNotExist", err)
	}
	if _, err := second.ListParts(ctx, key, "no-such-upload"); !isNotExist(err) || !second.IsPermanent(err) {
		t.Errorf("ListParts of an unknown upload: err = %v, want a permanent fs.ErrNotExist", err)
	}
	if err := second.AbortMultipart(ctx, key, "no-such-upload"); err != nil {
		t.Errorf("AbortMultipart of an unknown upload: %v, want nil", err)
	}
}

// TestStore_ListPartsPages lists more parts than one ListParts page holds.
func TestStore_ListPartsPages(t *testing.T) {
	t.Parallel()
	e := startEmu(t, 16)
	s := e.store(t, "")
	ctx := context.Background()
	up, err := s.CreateMultipart(ctx, "many-parts", 16*1500, 16)
	if err != nil {
		t.Fatal(err)
	}
	if up.PartSize != 16 {
		t.Fatalf("PartSize = %d, want 16", up.PartSize)
	}
	const n = 1203
	sem := make(chan struct{}, 16)
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		if i == 700 {
			continue // a gap
		}
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			d := pattern(i, 16)
			_, err := s.UploadPart(ctx, "many-parts", up.ID, i, bytes.NewReader(d), 16)
			errs <- err
		}()
	}
	for i := 0; i < n-1; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("UploadPart: %v", err)
		}
	}
	parts, err := s.ListParts(ctx, "many-parts", up.ID)
	if err != nil {
		t.Fatalf("ListParts: %v", err)
	}
	if len(parts) != n-1 {
		t.Fatalf("ListParts: %d parts, want %d", len(parts), n-1)
	}
	for i, p := range parts {
		want := i
		if i >= 700 {
			want = i + 1
		}
		if p.Number != want || p.Size != 16 || p.ETag == "" {
			t.Fatalf("ListParts[%d] = %+v, want part %d of 16 bytes with an ETag", i, p, want)
		}
	}
	if st := e.srv.Stats(); st.Requests["ListParts"] < 2 {
		t.Errorf("%d parts listed in %d ListParts requests, want paging", n-1, st.Requests["ListParts"])
	}
	if err := s.AbortMultipart(ctx, "many-parts", up.ID); err != nil {
		t.Fatal(err)
	}
}
