package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestWriter_PutObject(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	want := sampleObject("dir/file.bin", 5)
	write(t, db, func(w *Writer) error { return w.PutObject(want) })
	got, ok, err := db.Get(ctx, want.Path)
	if err != nil || !ok {
		t.Fatalf("Get = %v, %v", ok, err)
	}
	sameObject(t, got, want)

	// Replacing rewrites every column, including emptying strings.
	repl := Object{Path: want.Path, Size: 1, State: StateDone}
	write(t, db, func(w *Writer) error { return w.PutObject(repl) })
	got, _, _ = db.Get(ctx, want.Path)
	sameObject(t, got, repl)
	if !got.ModTime.IsZero() {
		t.Errorf("zero ModTime came back as %v", got.ModTime)
	}
}

func TestWriter_PutObjectDefaultsAndValidation(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	write(t, db, func(w *Writer) error { return w.PutObject(Object{Path: "p"}) })
	if o, _, _ := db.Get(ctx, "p"); o.State != StatePending || o.DestKey() != "p" {
		t.Errorf("defaults: State=%q DestKey=%q, want pending and p", o.State, o.DestKey())
	}
	for _, bad := range []Object{{Path: ""}, {Path: "x", State: "bogus"}} {
		err := db.Write(ctx, func(w *Writer) error { return w.PutObject(bad) })
		if err == nil {
			t.Errorf("PutObject(%+v) succeeded", bad)
		}
	}
}

func TestWriter_SetState(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	o := sampleObject("a", 2)
	o.State, o.Attempts = StateCopying, 3
	write(t, db, func(w *Writer) error { return w.PutObject(o) })
	before, _, _ := db.Get(ctx, "a")
	write(t, db, func(w *Writer) error { return w.SetState("a", StateFailed, "403 forbidden") })
	after, _, _ := db.Get(ctx, "a")
	if after.State != StateFailed || after.LastError != "403 forbidden" || after.Attempts != 3 {
		t.Errorf("after SetState: state=%q err=%q attempts=%d", after.State, after.LastError, after.Attempts)
	}
	if after.UpdatedAt.Before(before.UpdatedAt) {
		t.Errorf("UpdatedAt went back: %v → %v", before.UpdatedAt, after.UpdatedAt)
	}
	// Every other column is unchanged.
	after.State, after.LastError, after.UpdatedAt = before.State, before.LastError, before.UpdatedAt
	sameObject(t, after, before)

	err := db.Write(ctx, func(w *Writer) error { return w.SetState("missing", StateDone, "") })
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("SetState(missing) = %v, want ErrNotFound", err)
	}
	err = db.Write(ctx, func(w *Writer) error { return w.SetState("a", "nonsense", "") })
	if err == nil {
		t.Error("SetState with an unknown state succeeded")
	}
}

func TestWriter_AddPartAndDeleteParts(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	write(t, db, func(w *Writer) error {
		if err := w.PutObject(Object{Path: "big", Size: 30, UploadID: "u1", PartSize: 10}); err != nil {
			return err
		}
		for _, n := range []int{2, 0, 1} { // out of order; US3 numbers parts from 0
			p := Part{Path: "big", Number: n, Size: 10, ETag: fmt.Sprintf("e%d", n), Checksum: fmt.Sprintf("c%d", n)}
			if err := w.AddPart(p); err != nil {
				return err
			}
		}
		return w.AddPart(Part{Path: "big", Number: 1, Size: 9, ETag: "e1b", Checksum: "c1b"}) // replace
	})
	parts, err := db.Parts(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	want := []Part{
		{"big", 0, 10, "e0", "c0"}, {"big", 1, 9, "e1b", "c1b"}, {"big", 2, 10, "e2", "c2"},
	}
	if fmt.Sprint(parts) != fmt.Sprint(want) {
		t.Errorf("Parts = %v, want %v", parts, want)
	}
	// Re-putting the object keeps its parts (the engine updates rows mid-upload).
	write(t, db, func(w *Writer) error { return w.PutObject(Object{Path: "big", Size: 30, State: StateCopying}) })
	if parts, _ := db.Parts(ctx, "big"); len(parts) != 3 {
		t.Errorf("PutObject dropped parts: %v", parts)
	}
	write(t, db, func(w *Writer) error { return w.DeleteParts("big") })
	if parts, err := db.Parts(ctx, "big"); err != nil || len(parts) != 0 {
		t.Errorf("Parts after DeleteParts = %v, %v", parts, err)
	}
	write(t, db, func(w *Writer) error { return w.DeleteParts("never-had-parts") })
}

func TestWriter_AddPartNeedsObject(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	// The object may come later in the same Write…
	write(t, db, func(w *Writer) error {
		if err := w.AddPart(Part{Path: "late", Number: 1, Size: 1}); err != nil {
			return err
		}
		return w.PutObject(Object{Path: "late"})
	})
	// …but a part whose object never appears fails the whole commit.
	err := db.Write(ctx, func(w *Writer) error {
		if err := w.PutObject(Object{Path: "fine"}); err != nil {
			return err
		}
		return w.AddPart(Part{Path: "orphan", Number: 1, Size: 1})
	})
	if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
		t.Fatalf("Write with orphan part = %v, want foreign key failure", err)
	}
	if _, ok, _ := db.Get(ctx, "fine"); ok {
		t.Error("rows of a failed commit were kept")
	}
	// The writer connection is usable again.
	write(t, db, func(w *Writer) error { return w.PutObject(Object{Path: "after"}) })
	if _, ok, _ := db.Get(ctx, "after"); !ok {
		t.Error("write after failed commit lost")
	}
}

func TestDB_WriteRollsBackOnError(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	boom := errors.New("boom")
	err := db.Write(ctx, func(w *Writer) error {
		for i := range 3 {
			if err := w.PutObject(Object{Path: fmt.Sprint("r", i)}); err != nil {
				return err
			}
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Write error = %v, want fn's error unchanged", err)
	}
	if st, _ := db.Stats(ctx); st.Total != 0 {
		t.Errorf("rolled-back rows visible: %d", st.Total)
	}
}

func TestDB_WriteRollsBackOnPanic(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic swallowed")
			}
		}()
		db.Write(ctx, func(w *Writer) error {
			w.PutObject(Object{Path: "p"})
			panic("engine bug")
		})
	}()
	if _, ok, _ := db.Get(ctx, "p"); ok {
		t.Error("row of a panicked Write committed")
	}
	write(t, db, func(w *Writer) error { return w.PutObject(Object{Path: "q"}) })
	if _, ok, _ := db.Get(ctx, "q"); !ok {
		t.Error("Write after panic lost")
	}
}

func TestWriter_usedAfterWrite(t *testing.T) {
	db := openTemp(t)
	var saved *Writer
	write(t, db, func(w *Writer) error { saved = w; return nil })
	if err := saved.PutObject(Object{Path: "late"}); !errors.Is(err, ErrClosed) {
		t.Errorf("PutObject after Write returned = %v, want ErrClosed", err)
	}
}

func TestDB_WriteManyInOneTransaction(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	const n = 10000
	write(t, db, func(w *Writer) error {
		for i := range n {
			if err := w.PutObject(Object{Path: fmt.Sprintf("f/%06d", i), Size: int64(i)}); err != nil {
				return err
			}
		}
		return nil
	})
	st, err := db.Stats(ctx)
	if err != nil || st.Total != n || st.Bytes != n*(n-1)/2 {
		t.Errorf("Stats = %+v, %v; want %d rows, %d bytes", st, err, n, n*(n-1)/2)
	}
}

func TestDB_WriteConcurrent(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	const workers, each = 4, 50
	errc := make(chan error, workers)
	for g := range workers {
		go func() {
			var err error
			for i := 0; i < each && err == nil; i++ {
				err = db.Write(ctx, func(w *Writer) error {
					return w.PutObject(Object{Path: fmt.Sprintf("g%d/%03d", g, i)})
				})
			}
			errc <- err
		}()
	}
	for range workers {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := db.Stats(ctx); st.Total != workers*each {
		t.Errorf("Total = %d, want %d", st.Total, workers*each)
	}
}

func TestDB_SetMeta(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	if v, err := db.Meta(ctx, "unset"); err != nil || v != "" {
		t.Errorf("Meta(unset) = %q, %v", v, err)
	}
	for _, v := range []string{"first", "second"} {
		if err := db.SetMeta(ctx, "source", v); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Meta(ctx, "source"); err != nil || got != v {
			t.Errorf("Meta(source) = %q, %v; want %q", got, err, v)
		}
	}
}
