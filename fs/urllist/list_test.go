package urllist

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// readRecords parses a whole list.
func readRecords(text string) ([]record, bool, error) {
	lr, err := newListReader(strings.NewReader(text))
	if err != nil {
		return nil, false, err
	}
	var out []record
	for {
		r, err := lr.next()
		if errors.Is(err, io.EOF) {
			return out, lr.tsv, nil
		}
		if err != nil {
			return out, lr.tsv, err
		}
		out = append(out, r)
	}
}

func TestListReader_Plain(t *testing.T) {
	text := "\ufeffhttp://h/first\r\n# a comment\r\n\r\n   \r\n  http://h/indented  \r\n#http://h/commented-out\nhttp://h/last"
	recs, tsv, err := readRecords(text)
	if err != nil {
		t.Fatal(err)
	}
	if tsv {
		t.Error("plain list read as TSV")
	}
	want := []record{{1, "http://h/first", -1, ""}, {5, "http://h/indented", -1, ""}, {7, "http://h/last", -1, ""}}
	if len(recs) != len(want) {
		t.Fatalf("records = %+v, want %+v", recs, want)
	}
	for i := range want {
		if recs[i] != want[i] {
			t.Errorf("record %d = %+v, want %+v", i, recs[i], want[i])
		}
	}
}

func TestListReader_TSV(t *testing.T) {
	text := "TsvHttpData-1.0\r\n" +
		"http://h/a\t5\tXUFAKrxLKna5cZ2REBfFkg==\r\n" + // MD5 of "hello"
		"\n" +
		"http://h/b\t0\t\n" +
		"http://h/c\n" +
		"http://h/d\t7\n"
	recs, tsv, err := readRecords(text)
	if err != nil {
		t.Fatal(err)
	}
	if !tsv {
		t.Error("TSV list not recognised")
	}
	want := []record{
		{2, "http://h/a", 5, "5d41402abc4b2a76b9719d911017c592"},
		{4, "http://h/b", 0, ""},
		{5, "http://h/c", -1, ""},
		{6, "http://h/d", 7, ""},
	}
	if len(recs) != len(want) {
		t.Fatalf("records = %+v, want %+v", recs, want)
	}
	for i := range want {
		if recs[i] != want[i] {
			t.Errorf("record %d = %+v, want %+v", i, recs[i], want[i])
		}
	}
}

func TestListReader_Malformed(t *testing.T) {
	cases := []struct{ text, want string }{
		{"TsvHttpData-1.0\nhttp://h/a\t1\nhttp://h/b\tten\n", "list line 3: size \"ten\""},
		{"TsvHttpData-1.0\nhttp://h/a\t-1\n", "list line 2: size \"-1\""},
		{"TsvHttpData-1.0\n\nhttp://h/a\t1\tnot-base64!\n", "list line 3: MD5"},
		{"TsvHttpData-1.0\nhttp://h/a\t1\tAAAA\n", "list line 2: MD5"},
		{"TsvHttpData-1.0\nhttp://h/a\t1\tXUFAKrxLKna5cZ2REBfFkg==\textra\n", "list line 2: 4 tab-separated fields"},
		{"TsvHttpData-1.0\n\t1\n", "list line 2: empty URL"},
		{"http://h/a\nhttp://h/b c\n", "list line 2: a plain list holds one URL per line"},
	}
	for _, c := range cases {
		_, _, err := readRecords(c.text)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("list %q: err = %v, want one containing %q", c.text, err, c.want)
		}
	}
}

func TestOpen_MalformedList(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		lines []string
		want  string
	}{
		{[]string{"TsvHttpData-1.0", "http://127.0.0.1:1/a\t3\tXUFAKrxLKna5cZ2REBfFkg==", "http://127.0.0.1:1/b\t3\t!!"}, "list line 3: MD5"},
		{[]string{"# urls", "http://127.0.0.1:1/a", "ftp://127.0.0.1:1/b"}, "list line 3: parse url"},
	}
	for _, c := range cases {
		list := writeList(t, c.lines...)
		tree, err := Open(ctx, list, testOptions(t))
		if err == nil {
			tree.Close()
			t.Errorf("Open(%q): no error", c.lines)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), list) {
			t.Errorf("Open(%q): err = %v, want one naming the list and containing %q", c.lines, err, c.want)
		}
	}
	if _, err := Open(ctx, list404(t), testOptions(t)); err == nil {
		t.Error("Open of a missing list file: no error")
	}
}

func list404(t *testing.T) string { return t.TempDir() + "/no-such-list.txt" }
