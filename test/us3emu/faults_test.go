package us3emu_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ferry-project/ferry/test/us3emu"
)

func TestServer_ErrorRate(t *testing.T) {
	srv, ep := us3emu.StartForTest(t, us3emu.Options{})
	u := newSDK(t, ep, us3emu.TestBucket)
	srv.SetFaults(us3emu.Faults{ErrorRate: 0.3})
	const n = 200
	failed := 0
	stored := map[string][]byte{}
	for i := range n {
		k := fmt.Sprintf("e/%d", i)
		data := []byte(strings.Repeat(k, 100))
		if err := u.PutFileWithData(k, "text/plain", data); err != nil {
			if s := u.LastResponseStatus; s != 500 && s != 503 {
				t.Fatalf("failure status %d", s)
			}
			if !bytes.Contains(u.LastResponseBody, []byte(`"RetCode":-`)) {
				t.Fatalf("failure body %s", u.LastResponseBody)
			}
			failed++
			continue
		}
		stored[k] = data
	}
	// P(no failure) = 0.7^200 and P(all fail) = 0.3^200: both impossible in practice.
	if failed == 0 || failed == n {
		t.Fatalf("%d of %d puts failed", failed, n)
	}
	st := srv.Stats()
	if st.InjectedErrors != int64(failed) || st.FaultsInjected != int64(failed) || st.Requests["PutFile"] != n ||
		st.Succeeded["PutFile"] != int64(n-failed) {
		t.Fatalf("stats %+v, %d failed", st, failed)
	}
	srv.SetFaults(us3emu.Faults{})
	// Exactly the acknowledged puts exist, with their content.
	l, err := u.PrefixFileList("e/", "", 1000)
	if err != nil || len(l.DataSet) != len(stored) {
		t.Fatalf("listed %d, stored %d: %v", len(l.DataSet), len(stored), err)
	}
	for k, data := range stored {
		if got := download(t, u, k); !bytes.Equal(got, data) {
			t.Fatalf("%s damaged", k)
		}
	}
}

func TestServer_DropRate(t *testing.T) {
	srv, ep := us3emu.StartForTest(t, us3emu.Options{})
	u := newSDK(t, ep, us3emu.TestBucket)
	data := randBytes(64<<10, 6)
	if err := u.PutFileWithData("keep", "application/octet-stream", data); err != nil {
		t.Fatal(err)
	}
	srv.SetFaults(us3emu.Faults{DropRate: 1})

	// A PUT loses its connection mid-body and stores nothing.
	if err := u.PutFileWithData("keep", "text/plain", []byte(strings.Repeat("new", 10000))); err == nil {
		t.Fatal("dropped put succeeded")
	}
	if err := u.PutFileWithData("new", "text/plain", []byte("x")); err == nil {
		t.Fatal("dropped small put succeeded")
	}
	// A GET gets headers and half the body, then EOF.
	resp, err := http.Get(u.GetPrivateURL("keep", time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(body) != len(data)/2 || !bytes.Equal(body, data[:len(body)]) {
		t.Fatalf("dropped get: %v, %d bytes", err, len(body))
	}
	if err := u.HeadFile("keep"); err == nil {
		t.Fatal("dropped head succeeded")
	}
	if _, err := u.ListObjects("", "", "", 0); err == nil {
		t.Fatal("dropped list succeeded")
	}
	st := srv.Stats()
	// At least 5: Go's transport may replay an idempotent request once.
	if st.InjectedDrops < 5 || st.Succeeded["PutFile"] != 1 {
		t.Fatalf("stats %+v", st)
	}
	// The admin API is never faulted.
	var faults us3emu.Faults
	adminJSON(t, ep, "faults", &faults)
	if faults.DropRate != 1 {
		t.Fatalf("admin faults %+v", faults)
	}
	srv.SetFaults(us3emu.Faults{})
	if got := download(t, u, "keep"); !bytes.Equal(got, data) {
		t.Fatal("dropped requests changed stored data")
	}
	if err := u.HeadFile("new"); err == nil {
		t.Fatal("dropped put stored an object")
	}
}

// TestServer_DropMultipart drops some requests of repeated MPuts; the SDK
// aborts on a failed part, and no half object is ever visible.
func TestServer_DropMultipart(t *testing.T) {
	srv, ep := us3emu.StartForTest(t, us3emu.Options{BlkSize: 1024})
	u := newSDK(t, ep, us3emu.TestBucket)
	data := randBytes(10*1024, 7)
	path := writeTemp(t, data)
	srv.SetFaults(us3emu.Faults{DropRate: 0.05})
	succeeded := 0
	// Until one MPut failed by a drop and a later one succeeded (each of the
	// 12 requests of an MPut is dropped with probability 0.05).
	for i := 0; i < 300 && (succeeded == 0 || srv.Stats().InjectedDrops == 0); i++ {
		key := fmt.Sprintf("mp/%d", i)
		if err := u.MPut(path, key, ""); err == nil {
			if srv.Stats().InjectedDrops > 0 {
				succeeded++
			}
			continue
		}
		srv.SetFaults(us3emu.Faults{})
		if err := u.HeadFile(key); err == nil {
			t.Fatalf("object %s exists after a failed MPut", key)
		}
		srv.SetFaults(us3emu.Faults{DropRate: 0.05})
	}
	srv.SetFaults(us3emu.Faults{})
	if succeeded == 0 {
		t.Fatal("no MPut succeeded after a drop")
	}
	l, err := u.PrefixFileList("mp/", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range l.DataSet {
		if got := download(t, u, d.FileName); !bytes.Equal(got, data) {
			t.Fatalf("%s: bytes differ", d.FileName)
		}
	}
}

func TestServer_Latency(t *testing.T) {
	srv, ep := us3emu.StartForTest(t, us3emu.Options{})
	srv.SetFaults(us3emu.Faults{Latency: time.Hour})
	u := newSDK(t, ep, us3emu.TestBucket)
	u.Client.Timeout = 50 * time.Millisecond
	// The request cannot beat an hour of latency; the emulator lets go when
	// the client gives up, so the server's cleanup does not wait an hour.
	if err := u.HeadFile("x"); err == nil {
		t.Fatal("request beat the latency")
	}
	if st := srv.Stats(); st.Requests["HeadFile"] != 1 || st.Succeeded["HeadFile"] != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestServer_AdminAPI(t *testing.T) {
	srv, ep := us3emu.StartForTest(t, us3emu.Options{})
	put := func(body string) int {
		req, _ := http.NewRequest("PUT", ep+"/_us3emu/faults", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := put(`{"error_rate":0.25,"drop_rate":0.5,"latency_ms":3}`); s != 200 {
		t.Fatalf("put faults: %d", s)
	}
	if f := srv.Stats(); f.FaultsInjected != 0 {
		t.Fatal("faults counted before any request")
	}
	var f us3emu.Faults
	adminJSON(t, ep, "faults", &f)
	if f != (us3emu.Faults{ErrorRate: 0.25, DropRate: 0.5, Latency: 3 * time.Millisecond}) {
		t.Fatalf("faults %+v", f)
	}
	if s := put(`{"error_rate":2}`); s != 400 {
		t.Fatalf("invalid faults: %d", s)
	}
	if s := put(`{}`); s != 200 {
		t.Fatalf("clear faults: %d", s)
	}
	u := newSDK(t, ep, us3emu.TestBucket)
	if err := u.PutFileWithData("k", "text/plain", []byte("v")); err != nil {
		t.Fatal(err)
	}
	var st us3emu.Stats
	adminJSON(t, ep, "stats", &st)
	if st.Requests["PutFile"] != 1 || st.Succeeded["PutFile"] != 1 || st.BytesIn != 1 {
		t.Fatalf("stats %+v", st)
	}
	resp, err := http.Post(ep+"/_us3emu/stats/reset", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if st := srv.Stats(); len(st.Requests) != 0 {
		t.Fatalf("stats after reset %+v", st)
	}
	var ups []us3emu.PendingUpload
	adminJSON(t, ep, "uploads", &ups)
	if len(ups) != 0 {
		t.Fatalf("uploads %+v", ups)
	}
	resp, err = http.Get(ep + "/_us3emu/nothing")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 404 {
		t.Fatalf("unknown admin path: %s", resp.Status)
	}
	errorBody(t, resp)
}
