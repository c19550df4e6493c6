package us3emu

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestServer_UnknownBucketHost(t *testing.T) {
	_, ep := StartForTest(t, Options{Buckets: []string{"known"}})
	host := strings.TrimPrefix(ep, "http://")
	for h, want := range map[string]int{
		"nosuch." + host: http.StatusNotFound,     // an unknown bucket
		"known." + host:  http.StatusUnauthorized, // a known bucket: unsigned request refused
		host:             http.StatusUnauthorized, // endpoint form: the first bucket
	} {
		req, _ := http.NewRequest("GET", ep+"/key", nil)
		req.Host = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ RetCode int }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %q: status %d, want %d", h, resp.StatusCode, want)
		}
		if want == http.StatusNotFound && body.RetCode != retBucketNotExist {
			t.Errorf("Host %q: RetCode %d, want %d", h, body.RetCode, retBucketNotExist)
		}
	}
}
