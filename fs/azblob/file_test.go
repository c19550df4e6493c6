package azblob

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/test/azuritetest"
)

// TestStore_WalkRange compares ranged walks with the filtered full listing,
// at a container's root (where the listing starts near the range) and
// under a prefix (where it is narrowed to the range's common prefix), with
// pages smaller than the ranges.
func TestStore_WalkRange(t *testing.T) {
	srv := azuritetest.Start(t)
	srv.CreateContainer(t, "ranges")
	files := map[string][]byte{}
	var names []string
	for _, d := range []string{"a", "a-b", "a/b", "b", "ü", "日本"} {
		for i := 0; i < 6; i++ {
			names = append(names, fmt.Sprintf("%s/k%02d", d, i))
		}
	}
	names = append(names, "a.txt", "a0", "zz")
	under := map[string][]byte{"p/q.txt": []byte("beside the prefix")}
	for _, n := range names {
		files[n] = []byte(n)
		under["p/q/"+n] = []byte(n)
	}
	upload(t, srv, "ranges", files)
	srv.CreateContainer(t, "ranges-p")
	upload(t, srv, "ranges-p", under)
	slices.Sort(names)
	ranges := []fs.Range{
		{Start: "a/b/k03", End: "b/k02"},
		{Start: "a/", End: "a0"},
		{Start: "a/k02", End: "a/k04"},
		{Start: "a-b/k05", End: "a/b"},
		{Start: "ü/k01"},
		{Start: "b/k00\x00", End: "日本/k01"},
		{End: "a.txt"},
		{Start: "zz"},
		{Start: "zz\x00"},
	}
	for container, prefix := range map[string]string{"ranges": "", "ranges-p": "p/q"} {
		st := newStore(t, srv, container, prefix)
		st.pageSize = 4
		if got := keys(walkAll(t, st, fs.All)); !slices.Equal(got, names) {
			t.Fatalf("prefix %q: Walk(all) = %q, want %q", prefix, got, names)
		}
		for _, r := range ranges {
			var want []string
			for _, k := range names {
				if r.Contains(k) {
					want = append(want, k)
				}
			}
			if got := keys(walkAll(t, st, r)); !slices.Equal(got, want) {
				t.Errorf("prefix %q: Walk(%+v) = %q, want %q", prefix, r, got, want)
			}
		}
	}
}

// TestFile_ReadAtPinned overwrites a blob between two reads of one open
// file: the second read fails with fs.ErrChanged (If-Match on the ETag),
// never returning bytes of the new version, for Open and OpenEntry alike.
func TestFile_ReadAtPinned(t *testing.T) {
	srv := azuritetest.Start(t)
	srv.CreateContainer(t, "pin")
	upload(t, srv, "pin", map[string][]byte{"f.bin": []byte(strings.Repeat("1", 4096))})
	st := newStore(t, srv, "pin", "")
	ctx := context.Background()
	e, err := st.Stat(ctx, "f.bin")
	if err != nil {
		t.Fatal(err)
	}
	opened, err := st.Open(ctx, "f.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	byEntry, err := st.OpenEntry(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	defer byEntry.Close()
	p := make([]byte, 100)
	for _, f := range []fs.File{opened, byEntry} {
		if n, err := f.ReadAt(p, 10); n != 100 || err != nil || string(p) != strings.Repeat("1", 100) {
			t.Fatalf("first read: %d, %v, %q", n, err, p[:n])
		}
	}
	upload(t, srv, "pin", map[string][]byte{"f.bin": []byte(strings.Repeat("2", 4096))})
	for i, f := range []fs.File{opened, byEntry} {
		n, err := f.ReadAt(p, 200)
		if !errors.Is(err, fs.ErrChanged) {
			t.Errorf("file %d: read after overwrite: n %d, err %v; want fs.ErrChanged", i, n, err)
		}
		if n != 0 {
			t.Errorf("file %d: read after overwrite returned %d bytes", i, n)
		}
		if !st.IsPermanent(err) {
			t.Errorf("IsPermanent(%v) = false", err)
		}
	}
	// A fresh Open reads the new version.
	f, err := st.Open(ctx, "f.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := readAll(t, f, 4096); string(got) != strings.Repeat("2", 4096) {
		t.Errorf("reopened file holds %q…", got[:10])
	}
}

// TestStore_Archived moves a blob to the Archive tier: Walk, ReadDir and
// Stat record it on the entry (Archived, ArchiveClass), and Open and
// OpenEntry fail at once with an error naming the tier and wrapping
// ErrArchived, which is permanent. A rehydrated blob is a new Version.
func TestStore_Archived(t *testing.T) {
	srv := azuritetest.Start(t)
	srv.CreateContainer(t, "cold")
	upload(t, srv, "cold", map[string][]byte{"frozen.bin": []byte("ice"), "warm.txt": []byte("sun")})
	ctx := context.Background()
	bc := srv.Client().NewContainerClient("cold").NewBlobClient("frozen.bin")
	if _, err := bc.SetTier(ctx, blob.AccessTierArchive, nil); err != nil {
		t.Fatalf("set tier Archive: %v", err)
	}
	st := newStore(t, srv, "cold", "")
	walked := walkAll(t, st, fs.All)
	if len(walked) != 2 {
		t.Fatalf("Walk: %+v", walked)
	}
	byPath := map[string]fs.Entry{}
	for _, e := range walked {
		byPath[e.Path] = e
	}
	stat, err := st.Stat(ctx, "frozen.bin")
	if err != nil {
		t.Fatal(err)
	}
	for what, e := range map[string]fs.Entry{"walked": byPath["frozen.bin"], "stat": stat} {
		tier, _, ok := Archived(e)
		if !ok || tier != "Archive" {
			t.Errorf("%s entry %+v: Archived = %q, %v; want Archive", what, e, tier, ok)
		}
		if class, ok := st.ArchiveClass(e); !ok || class != "Archive" {
			t.Errorf("%s entry: ArchiveClass = %q, %v", what, class, ok)
		}
		if _, err := st.OpenEntry(ctx, e); !errors.Is(err, ErrArchived) || !strings.Contains(err.Error(), "Archive") || !st.IsPermanent(err) {
			t.Errorf("%s entry: OpenEntry = %v; want a permanent error naming the Archive tier", what, err)
		}
	}
	if _, _, ok := Archived(byPath["warm.txt"]); ok {
		t.Errorf("warm.txt is reported archived: %+v", byPath["warm.txt"])
	}
	_, err = st.Open(ctx, "frozen.bin")
	if !errors.Is(err, ErrArchived) || !strings.Contains(err.Error(), "Archive") {
		t.Errorf("Open(frozen.bin) = %v; want ErrArchived naming the tier", err)
	}
	if err != nil && strings.Contains(err.Error(), "\n") {
		t.Errorf("Open error spans lines: %q", err)
	}
	t.Logf("Open(frozen.bin): %v", err)

	// A read of a blob archived after it was opened fails clearly too.
	warm, err := st.Open(ctx, "warm.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer warm.Close()
	if _, err := srv.Client().NewContainerClient("cold").NewBlobClient("warm.txt").SetTier(ctx, blob.AccessTierArchive, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := warm.ReadAt(make([]byte, 3), 0); err == nil || (!errors.Is(err, ErrArchived) && !errors.Is(err, fs.ErrChanged)) {
		t.Errorf("read of a blob archived since Open = %v; want ErrArchived (or fs.ErrChanged)", err)
	} else {
		t.Logf("read after archiving: %v", err)
	}

	// Rehydrating changes the Version, so a catalog sees a new version.
	if _, err := bc.SetTier(ctx, blob.AccessTierHot, nil); err != nil {
		t.Fatalf("set tier Hot: %v", err)
	}
	if e, err := st.Stat(ctx, "frozen.bin"); err != nil {
		t.Fatal(err)
	} else if _, status, ok := Archived(e); ok {
		t.Logf("after rehydration request: still archived (%s), Version %q", status, e.Version)
		if e.Version == stat.Version {
			t.Errorf("Version unchanged by a pending rehydration: %q", e.Version)
		}
	} else if e.Version == stat.Version {
		t.Errorf("rehydrated blob keeps Version %q", e.Version)
	} else if f, err := st.OpenEntry(ctx, e); err != nil {
		t.Errorf("OpenEntry of the rehydrated blob: %v", err)
	} else {
		if got := readAll(t, f, e.Size); string(got) != "ice" {
			t.Errorf("rehydrated blob holds %q", got)
		}
		f.Close()
	}
}
