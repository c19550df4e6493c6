package fetch

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/ferry-project/ferry/agent/agenttest"
)

// BenchmarkHandler_post measures accepted POSTs (signature check, job
// lookup, durable insert) over a real catalog and loopback HTTP.
func BenchmarkHandler_post(b *testing.B) {
	srv := httptest.NewServer(NewHandler(openDB(b), testJobs(b, nil), HandlerOptions{Drivers: agenttest.Drivers(b), MaxQueue: 1 << 30}))
	b.Cleanup(srv.Close)
	base := srv.URL
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	sub := &Submitter{Master: base, Public: testPub, Private: testPriv, HTTP: &http.Client{Transport: tr}}
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			r := validRequest()
			r.Key = fmt.Sprintf("bench/%d", i)
			if _, status, err := sub.Post(b.Context(), r); err != nil || status != 200 {
				b.Errorf("POST = %d %v", status, err)
				return
			}
		}
	})
}
