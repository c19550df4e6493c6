package us3emu

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// modelList is the obvious (slow) listing the index must agree with.
func modelList(keys []string, prefix, marker, delim string, max int) (entries []string, truncated bool) {
	var all []string
	seen := map[string]bool{}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		e := k
		if delim != "" {
			if j := strings.Index(k[len(prefix):], delim); j >= 0 {
				e = k[:len(prefix)+j+len(delim)]
			}
		}
		if e <= marker || seen[e] {
			continue
		}
		seen[e] = true
		all = append(all, e)
	}
	if len(all) > max {
		return all[:max], true
	}
	return all, false
}

func TestBucket_List(t *testing.T) {
	b, err := openBucket(t.TempDir(), "b")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "/", "-", "\xff", "é", "0"}
	var keys []string
	for len(keys) < 400 {
		var sb strings.Builder
		for n := 1 + rng.IntN(6); n > 0; n-- {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		k := sb.String()
		if _, dup := b.objs[k]; dup {
			continue
		}
		b.objs[k] = &object{Key: k}
		b.insertKey(k)
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, b.keys) {
		t.Fatal("index not in byte order")
	}
	for _, delim := range []string{"", "/", "-"} {
		for _, prefix := range []string{"", "a", "a/", "\xff", "é"} {
			for _, max := range []int{1, 3, 1000} {
				// Page through with Next as the marker, as a client does.
				var got []string
				marker := ""
				for range 1000 {
					p := b.list(prefix, marker, delim, max)
					for _, o := range p.Objects {
						got = append(got, o.Key)
					}
					got = append(got, p.Prefixes...)
					want, trunc := modelList(keys, prefix, marker, delim, max)
					page := append(objKeys(p.Objects), p.Prefixes...)
					slices.Sort(page)
					if !slices.Equal(page, want) || p.Truncated != trunc {
						t.Fatalf("delim %q prefix %q marker %q max %d: got %q (trunc %v), want %q (trunc %v)",
							delim, prefix, marker, max, page, p.Truncated, want, trunc)
					}
					if !p.Truncated {
						break
					}
					marker = p.Next
				}
				want, _ := modelList(keys, prefix, "", delim, 1<<30)
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Fatalf("delim %q prefix %q max %d: paged listing %q, want %q", delim, prefix, max, got, want)
				}
			}
		}
	}
}

func objKeys(os []object) []string {
	var ks []string
	for _, o := range os {
		ks = append(ks, o.Key)
	}
	return ks
}

func TestPrefixSuccessor(t *testing.T) {
	cases := map[string]string{"a/": "a0", "ab": "ac", "a\xff": "b", "a\xff\xff": "b"}
	for in, want := range cases {
		if got, ok := prefixSuccessor(in); !ok || got != want {
			t.Errorf("prefixSuccessor(%q) = %q, %v", in, got, ok)
		}
	}
	if _, ok := prefixSuccessor("\xff\xff"); ok {
		t.Error("all-0xff prefix has a successor")
	}
}

func TestParseRange(t *testing.T) {
	cases := []struct {
		h             string
		size          int64
		start, length int64
		partial, err  bool
	}{
		{"", 10, 0, 10, false, false},
		{"bytes=0-0", 10, 0, 1, true, false},
		{"bytes=2-5", 10, 2, 4, true, false},
		{"bytes=7-", 10, 7, 3, true, false},
		{"bytes=5-100", 10, 5, 5, true, false},
		{"bytes=-3", 10, 7, 3, true, false},
		{"bytes=-30", 10, 0, 10, true, false},
		{"bytes=10-", 10, 0, 0, false, true},
		{"bytes=-0", 10, 0, 0, false, true},
		{"bytes=0-", 0, 0, 0, false, true},
		{"bytes=0-1,3-4", 10, 0, 10, false, false},
		{"bytes=5-2", 10, 0, 10, false, false},
		{"items=0-1", 10, 0, 10, false, false},
	}
	for _, c := range cases {
		s, l, p, e := parseRange(c.h, c.size)
		if s != c.start || l != c.length || p != c.partial || (e != nil) != c.err {
			t.Errorf("parseRange(%q, %d) = %d, %d, %v, %v", c.h, c.size, s, l, p, e)
		}
	}
}

// TestBucket_ListScale lists 20,000 keys inserted in random order, in pages
// of 1,000, with and without a delimiter.
func TestBucket_ListScale(t *testing.T) {
	b, err := openBucket(t.TempDir(), "b")
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	perm := rand.New(rand.NewPCG(3, 4)).Perm(n)
	for _, i := range perm {
		k := "dir" + strings.Repeat("/sub", i%3) + "/" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + "-" + strings.Repeat("9", i%5) + "-" + itoa(i)
		b.objs[k] = &object{Key: k}
		b.insertKey(k)
	}
	if !slices.IsSorted(b.keys) || len(b.keys) != n {
		t.Fatal("index unsorted")
	}
	count, marker := 0, ""
	for {
		p := b.list("dir/", marker, "", 1000)
		count += len(p.Objects)
		if !p.Truncated {
			break
		}
		marker = p.Next
	}
	if count != n {
		t.Fatalf("flat listing saw %d keys", count)
	}
	var objs int
	var prefs []string
	marker = ""
	for {
		p := b.list("dir/", marker, "/", 1000)
		objs += len(p.Objects)
		prefs = append(prefs, p.Prefixes...)
		if !p.Truncated {
			break
		}
		marker = p.Next
	}
	if objs != (n+2)/3 || !slices.Equal(prefs, []string{"dir/sub/"}) {
		t.Fatalf("delimiter listing: %d objects, prefixes %q", objs, prefs)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
