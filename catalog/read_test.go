package catalog

import (
	"context"
	"fmt"
	"testing"
)

func TestDB_Lookup(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	const stored = 1200
	write(t, db, func(w *Writer) error {
		for i := range stored {
			if err := w.PutObject(sampleObject(fmt.Sprintf("p/%05d", i), i)); err != nil {
				return err
			}
		}
		return nil
	})
	// Ask for every other stored path, interleaved with missing ones and a
	// duplicate, well past one 500-path batch.
	var paths []string
	for i := 0; i < stored; i += 2 {
		paths = append(paths, fmt.Sprintf("p/%05d", i), fmt.Sprintf("missing/%05d", i))
	}
	paths = append(paths, "p/00000")
	got, err := db.Lookup(ctx, paths)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != stored/2 {
		t.Fatalf("Lookup found %d rows, want %d", len(got), stored/2)
	}
	for i := 0; i < stored; i += 2 {
		p := fmt.Sprintf("p/%05d", i)
		o, ok := got[p]
		if !ok {
			t.Fatalf("%s missing from Lookup", p)
		}
		sameObject(t, o, sampleObject(p, i))
	}
	for p := range got {
		if p[0] != 'p' {
			t.Errorf("Lookup returned unasked path %q", p)
		}
	}
	if got, err := db.Lookup(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("Lookup(nil) = %v, %v", got, err)
	}
}

func TestDB_Get(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	write(t, db, func(w *Writer) error { return w.PutObject(sampleObject("x/y", 9)) })
	o, ok, err := db.Get(ctx, "x/y")
	if err != nil || !ok {
		t.Fatalf("Get = %v, %v", ok, err)
	}
	sameObject(t, o, sampleObject("x/y", 9))
	if _, ok, err := db.Get(ctx, "x"); err != nil || ok {
		t.Errorf("Get(absent) = %v, %v; want false, nil", ok, err)
	}
}

func TestDB_Parts(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	if parts, err := db.Parts(ctx, "none"); err != nil || len(parts) != 0 {
		t.Errorf("Parts(none) = %v, %v", parts, err)
	}
	write(t, db, func(w *Writer) error {
		for _, p := range []string{"a", "b"} {
			if err := w.PutObject(Object{Path: p}); err != nil {
				return err
			}
			for n := 12; n >= 1; n-- {
				if err := w.AddPart(Part{Path: p, Number: n, Size: int64(n), ETag: p}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	parts, err := db.Parts(ctx, "a")
	if err != nil || len(parts) != 12 {
		t.Fatalf("Parts(a) = %d, %v", len(parts), err)
	}
	for i, p := range parts {
		if p.Number != i+1 || p.Path != "a" || p.ETag != "a" || p.Size != int64(i+1) {
			t.Errorf("part %d = %+v", i, p)
		}
	}
}
