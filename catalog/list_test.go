package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// listPaths are stored by TestDB_List: byte order matters ('-' < '/' < 'a',
// upper before lower case, multi-byte UTF-8 after ASCII), and LIKE
// wildcards must be taken literally.
var listPaths = []string{
	"a-c", "a/b", "a/b c", "a/b%d", "a/b_d", "a/bxd", "A/upper", "ab",
	"100%/x", "10/y", "%lead", "_under", "sp ace/x y z",
	"é/accent", "日本/語", "z\x7f", strings.Repeat("long/", 200) + "end",
}

// collect lists with o and returns the paths in the order seen.
func collectList(t *testing.T, db *DB, o ListOptions) []string {
	t.Helper()
	var got []string
	if err := db.List(context.Background(), o, func(obj Object) error {
		got = append(got, obj.Path)
		return nil
	}); err != nil {
		t.Fatalf("List(%+v): %v", o, err)
	}
	return got
}

// expect filters all (sorted) the way List should.
func expect(all []string, state map[string]State, o ListOptions) []string {
	var out []string
	for _, p := range all {
		if p > o.After && strings.HasPrefix(p, o.Prefix) && (o.State == "" || state[p] == o.State) {
			out = append(out, p)
		}
	}
	if o.Limit > 0 && len(out) > o.Limit {
		out = out[:o.Limit]
	}
	return out
}

func TestDB_List(t *testing.T) {
	db := openTemp(t)
	state := map[string]State{}
	write(t, db, func(w *Writer) error {
		for i, p := range listPaths {
			o := sampleObject(p, i)
			state[p] = o.State
			if err := w.PutObject(o); err != nil {
				return err
			}
		}
		return nil
	})
	all := slices.Clone(listPaths)
	slices.Sort(all) // Go's string order is byte order, as SQLite's BINARY
	cases := []ListOptions{
		{},
		{Prefix: "a/"}, {Prefix: "a/b_"}, {Prefix: "a/b%"}, {Prefix: "%"}, {Prefix: "_"},
		{Prefix: "10"}, {Prefix: "A"}, {Prefix: "日"}, {Prefix: "long/long/"}, {Prefix: "nothing"},
		{After: "a-c"}, {After: "a/"}, {After: "zzz"}, {After: "a/b", Prefix: "a/"},
		{Limit: 3}, {Limit: 1, After: "a/b c"}, {Limit: 100},
		{State: StatePending}, {State: StateDone, Prefix: "a"}, {State: StateFailed, Limit: 1},
	}
	for _, o := range cases {
		got, want := collectList(t, db, o), expect(all, state, o)
		if !slices.Equal(got, want) {
			t.Errorf("List(%+v)\n got %q\nwant %q", o, got, want)
		}
	}
	if got := collectList(t, db, ListOptions{}); len(got) != len(listPaths) {
		t.Errorf("List(all) = %d rows, want %d", len(got), len(listPaths))
	}
}

func TestDB_ListPagesAndCallbacks(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	const n = 2*listPage + 345
	var all []string
	write(t, db, func(w *Writer) error {
		for i := range n {
			p := fmt.Sprintf("k/%05d", i)
			all = append(all, p)
			if err := w.PutObject(Object{Path: p, State: StatePending}); err != nil {
				return err
			}
		}
		return nil
	})
	for _, o := range []ListOptions{{}, {Limit: listPage}, {Limit: listPage + 1}, {After: all[listPage-1], Limit: 1500}} {
		if got, want := collectList(t, db, o), expect(all, nil, o); !slices.Equal(got, want) {
			t.Errorf("List(%+v): got %d rows [%s…], want %d", o, len(got), got[0], len(want))
		}
	}
	// fn may write to the catalog while listing (no read transaction is held).
	seen := 0
	err := db.List(ctx, ListOptions{State: StatePending}, func(o Object) error {
		seen++
		return db.Write(ctx, func(w *Writer) error { return w.SetState(o.Path, StateDone, "") })
	})
	if err != nil || seen != n {
		t.Fatalf("List with writes: seen %d, %v", seen, err)
	}
	if st, _ := db.Stats(ctx); st.ByState[StateDone] != n {
		t.Errorf("done = %d, want %d", st.ByState[StateDone], n)
	}
	// An error from fn stops the listing and comes back unchanged.
	stop := errors.New("stop")
	calls := 0
	err = db.List(ctx, ListOptions{}, func(Object) error {
		if calls++; calls == 5 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 5 {
		t.Errorf("List stopped with %v after %d calls, want stop after 5", err, calls)
	}
	if err := db.List(ctx, ListOptions{State: "weird"}, func(Object) error { return nil }); err == nil {
		t.Error("List with unknown state succeeded")
	}
	if err := db.List(ctx, ListOptions{Limit: -1}, func(Object) error { return nil }); err == nil {
		t.Error("List with negative limit succeeded")
	}
}

func TestDB_Stats(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	st, err := db.Stats(ctx)
	if err != nil || st.Total != 0 || st.Bytes != 0 || !st.FirstUpdate.IsZero() || st.ByState == nil || st.BytesByState == nil {
		t.Fatalf("empty Stats = %+v, %v", st, err)
	}
	want := Stats{ByState: map[State]int64{}, BytesByState: map[State]int64{}}
	write(t, db, func(w *Writer) error {
		for i := range 100 {
			o := sampleObject(fmt.Sprint("s/", i), i)
			want.Total++
			want.Bytes += o.Size
			want.ByState[o.State]++
			want.BytesByState[o.State] += o.Size
			if err := w.PutObject(o); err != nil {
				return err
			}
		}
		return nil
	})
	st, err = db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != want.Total || st.Bytes != want.Bytes ||
		fmt.Sprint(st.ByState) != fmt.Sprint(want.ByState) || fmt.Sprint(st.BytesByState) != fmt.Sprint(want.BytesByState) {
		t.Errorf("Stats = %+v\nwant %+v", st, want)
	}
	first, _, _ := db.Get(ctx, "s/0")
	last, _, _ := db.Get(ctx, "s/99")
	if !st.FirstUpdate.Equal(first.UpdatedAt) || !st.LastUpdate.Equal(last.UpdatedAt) {
		t.Errorf("updates = %v..%v, want %v..%v", st.FirstUpdate, st.LastUpdate, first.UpdatedAt, last.UpdatedAt)
	}
}

func TestPrefixEnd(t *testing.T) {
	for in, want := range map[string]string{"a": "b", "a/": "a0", "a\xff": "b", "\xff\xff": "", "日": "日"[:2] + "\xa6"} {
		got, ok := prefixEnd(in)
		if got != want || ok != (want != "") {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
