package us3emu_test

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/ferry-project/ferry/test/us3emu"
	ufsdk "github.com/ufilesdk-dev/ufile-gosdk"
)

func TestServer_ListObjects(t *testing.T) {
	_, ep := us3emu.StartForTest(t, us3emu.Options{})
	u := newSDK(t, ep, us3emu.TestBucket)
	keys := []string{"a", "a-c", "a/b", "a/c/d", "a/c/e", "b/x", "b/y/z", "c"}
	for _, k := range keys {
		if err := u.PutFileWithData(k, "text/plain", []byte("v:"+k)); err != nil {
			t.Fatal(err)
		}
	}
	l, err := u.ListObjects("", "", "/", 0)
	if err != nil {
		t.Fatal(err)
	}
	if l.MaxKeys != "100" || l.IsTruncated || l.NextMarker != "" || l.Delimiter != "/" || l.Name != us3emu.TestBucket {
		t.Errorf("listing header %+v", l)
	}
	if got := contentKeys(l); !slices.Equal(got, []string{"a", "a-c", "c"}) {
		t.Errorf("contents %q", got)
	}
	if got := prefixes(l); !slices.Equal(got, []string{"a/", "b/"}) {
		t.Errorf("prefixes %q", got)
	}
	c := l.Contents[0]
	if c.Size != "3" || c.Etag != sdkETag(t, []byte("v:a")) || c.MimeType != "text/plain" ||
		c.LastModified == 0 || c.StorageClass != "STANDARD" {
		t.Errorf("content entry %+v", c)
	}
	l, err = u.ListObjects("a/", "", "/", 0)
	if err != nil || !slices.Equal(contentKeys(l), []string{"a/b"}) || !slices.Equal(prefixes(l), []string{"a/c/"}) {
		t.Errorf("a/ listing %+v %v", l, err)
	}
	// Paging one entry at a time with NextMarker visits every entry once.
	var seen []string
	marker := ""
	for range 20 {
		l, err := u.ListObjects("", marker, "/", 1)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(append(seen, contentKeys(l)...), prefixes(l)...)
		if !l.IsTruncated {
			break
		}
		marker = l.NextMarker
	}
	if !slices.Equal(seen, []string{"a", "a-c", "a/", "b/", "c"}) {
		t.Errorf("paged %q", seen)
	}
	// Without a delimiter every key is listed in byte order.
	l, err = u.ListObjects("", "a-c", "", 0)
	if err != nil || !slices.Equal(contentKeys(l), keys[2:]) {
		t.Errorf("flat after marker %q %v", contentKeys(l), err)
	}
}

func TestServer_PrefixFileList(t *testing.T) {
	_, ep := us3emu.StartForTest(t, us3emu.Options{})
	u := newSDK(t, ep, us3emu.TestBucket)
	var want []string
	for i := range 45 {
		k := fmt.Sprintf("p/%03d", i)
		want = append(want, k)
		if err := u.PutFileWithData(k, "text/plain", []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := u.PutFileWithData("q", "text/plain", []byte("q")); err != nil {
		t.Fatal(err)
	}
	var got []string
	marker := ""
	for pages := 1; ; pages++ {
		l, err := u.PrefixFileList("p/", marker, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.DataSet) > 20 {
			t.Fatalf("page of %d", len(l.DataSet))
		}
		for _, d := range l.DataSet {
			got = append(got, d.FileName)
			if d.Size != 5 || d.Hash != sdkETag(t, []byte(d.FileName)) || d.BucketName != us3emu.TestBucket || d.ModifyTime == 0 {
				t.Fatalf("entry %+v", d)
			}
		}
		if l.NextMarker == "" {
			if pages != 3 {
				t.Errorf("%d pages", pages)
			}
			break
		}
		marker = l.NextMarker
	}
	if !slices.Equal(got, want) {
		t.Errorf("listed %q", got)
	}
}

// TestServer_ManyKeys puts 2,000 keys from parallel clients (one SDK
// request per goroutine) and lists them back in byte order.
func TestServer_ManyKeys(t *testing.T) {
	_, ep := us3emu.StartForTest(t, us3emu.Options{})
	const n, workers = 2000, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := &ufsdk.Config{PublicKey: us3emu.TestPublicKey, PrivateKey: us3emu.TestPrivateKey,
				BucketName: us3emu.TestBucket, Endpoint: ep}
			u, err := ufsdk.NewFileRequest(cfg, nil)
			if err != nil {
				errs <- err
				return
			}
			for i := w; i < n; i += workers {
				if err := u.PutFileWithData("many/"+strconv.Itoa(i), "text/plain", []byte{byte(i)}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	u := newSDK(t, ep, us3emu.TestBucket)
	var got []string
	marker := ""
	for {
		l, err := u.ListObjects("many/", marker, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, contentKeys(l)...)
		if !l.IsTruncated {
			break
		}
		marker = l.NextMarker
	}
	if len(got) != n || !slices.IsSorted(got) {
		t.Fatalf("listed %d keys, sorted %v", len(got), slices.IsSorted(got))
	}
}

func contentKeys(l ufsdk.ListObjectsResponse) []string {
	var ks []string
	for _, c := range l.Contents {
		ks = append(ks, c.Key)
	}
	return ks
}

func prefixes(l ufsdk.ListObjectsResponse) []string {
	var ps []string
	for _, p := range l.CommonPrefixes {
		ps = append(ps, p.Prefix)
	}
	return ps
}
