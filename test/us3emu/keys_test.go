package us3emu_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/test/us3emu"
)

// weirdKeys are keys a naive emulator (ServeMux, key-as-path) would break.
var weirdKeys = []string{
	"a", "a/b", "a//b", "a/b/", "/leading", "../up", "x/../y", "./dot", ".", "..",
	"with space", "plus+sign", "percent%25%", "%2F", "hash#frag", "q?x=1&y=2", "semi;colon",
	"ünïcödé/文件/файл", "emoji😀", "tab\tkey", "back\\slash", "quote\"d", "star*",
	strings.Repeat("n", 200), strings.Repeat("deep/", 40) + "end",
}

func TestServer_WeirdKeys(t *testing.T) {
	_, ep := us3emu.StartForTest(t, us3emu.Options{BlkSize: 16})
	u := newSDK(t, ep, us3emu.TestBucket)
	for i, k := range weirdKeys {
		data := []byte("content of " + k)
		var err error
		switch i % 3 {
		case 0:
			err = u.PutFileWithData(k, "text/plain", data)
		case 1:
			err = u.MPut(writeTemp(t, data), k, "text/plain")
		case 2:
			err = u.PostFile(writeTemp(t, data), k, "text/plain")
		}
		if err != nil {
			t.Fatalf("put %q: %v %s", k, err, u.LastResponseBody)
		}
	}
	for _, k := range weirdKeys {
		data := []byte("content of " + k)
		if got := download(t, u, k); !bytes.Equal(got, data) {
			t.Errorf("%q: got %q", k, got)
		}
		if got := headETag(t, u, k); got != sdkETag(t, data) {
			t.Errorf("%q: ETag %s", k, got)
		}
	}
	want := slices.Clone(weirdKeys)
	slices.Sort(want)
	var got []string
	marker := ""
	for {
		l, err := u.ListObjects("", marker, "", 7)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, contentKeys(l)...)
		if !l.IsTruncated {
			break
		}
		marker = l.NextMarker
	}
	if !slices.Equal(got, want) {
		t.Errorf("listing\n got %q\nwant %q", got, want)
	}
	for _, k := range weirdKeys {
		if err := u.DeleteFile(k); err != nil {
			t.Errorf("delete %q: %v", k, err)
		}
	}
	if l, err := u.PrefixFileList("", "", 100); err != nil || len(l.DataSet) != 0 {
		t.Errorf("after deletes: %+v %v", l, err)
	}
}
