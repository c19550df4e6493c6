package agent

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ferry-project/ferry/internal/tlsclient"
	"github.com/ferry-project/ferry/internal/tlsclient/tlstest"
)

// serveListener serves m on 127.0.0.1 through Listener (TLS when cfg is
// set), with a 64 KiB header limit, and returns the address.
func serveListener(t *testing.T, m *Master, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: m, MaxHeaderBytes: 64 << 10, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(Listener(ln, cfg))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// rawRequest writes req on a new connection (TLS when cfg is set) and
// reads the answer: status, Content-Type and body.
func rawRequest(t *testing.T, addr string, cfg *tls.Config, req string) (int, string, string) {
	t.Helper()
	var c net.Conn
	var err error
	if cfg != nil {
		c, err = tls.Dial("tcp", addr, cfg)
	} else {
		c, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	go io.WriteString(c, req) // a server refusing a huge header may stop reading
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// assertJSONError checks an answer is {"error": …} with status want.
func assertJSONError(t *testing.T, what string, status int, ct, body string, want int) {
	t.Helper()
	var eb errorBody
	if status != want || !strings.HasPrefix(ct, "application/json") || json.Unmarshal([]byte(body), &eb) != nil || eb.Error == "" {
		t.Errorf("%s: %d %q %q, want %d with a JSON error", what, status, ct, body, want)
	}
}

func TestMaster_ServeHTTP_alwaysJSON(t *testing.T) {
	tm := startMaster(t, func(c *MasterConfig) {
		c.Mounts = []Mount{func(mux *http.ServeMux, admin, cluster func(http.Handler) http.Handler) {
			mux.Handle("/tree/", http.NotFoundHandler()) // "/tree" redirects to it
			mux.HandleFunc("GET /plain", func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "plain failure", http.StatusTeapot)
			})
		}}
	})
	addr := serveListener(t, tm.m, nil)
	huge := strings.Repeat("x", 200<<10)
	for _, c := range []struct {
		name, req string
		status    int
	}{
		{"dot-dot path", "GET /api/v1/jobs/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"double slash", "GET /api/v1//jobs HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"dot segment", "GET /api/v1/./jobs HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"unknown path", "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404},
		{"wrong method", "PUT /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405},
		{"trailing-slash redirect", "GET /tree HTTP/1.1\r\nHost: x\r\n\r\n", 307},
		{"handler's plain error", "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n", 418},
		{"oversized header", "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + huge + "\r\n\r\n", 431},
		{"malformed request line", "GARBAGE\r\n\r\n", 400},
		{"no Host header", "GET /api/v1/health HTTP/1.1\r\n\r\n", 400},
		{"unknown transfer encoding", "POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: rot13\r\n\r\n", 501},
	} {
		status, ct, body := rawRequest(t, addr, nil, c.req)
		assertJSONError(t, c.name, status, ct, body, c.status)
	}
	if status, ct, body := rawRequest(t, addr, nil, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n"); status != 200 || !strings.Contains(body, "ok") {
		t.Errorf("health: %d %q %q", status, ct, body)
	}
}

func TestMaster_ServeHTTP_metricsToken(t *testing.T) {
	get := func(tm *testMaster, token string) int {
		req, _ := http.NewRequest("GET", tm.srv.URL+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("metrics refusal is %s", resp.Header.Get("Content-Type"))
		}
		return resp.StatusCode
	}
	open := startMaster(t, nil)
	if s := get(open, ""); s != 200 {
		t.Errorf("metrics without a metrics token configured: %d, want 200", s)
	}
	closed := startMaster(t, func(c *MasterConfig) { c.MetricsToken = "metrics-secret" })
	for _, c := range []struct {
		token string
		want  int
	}{{"", 401}, {"wrong", 401}, {clusterToken, 401}, {"metrics-secret", 200}, {adminToken, 200}} {
		if s := get(closed, c.token); s != c.want {
			t.Errorf("metrics with token %q: %d, want %d", c.token, s, c.want)
		}
	}
}

func TestClient_TLS(t *testing.T) {
	files, err := tlstest.Write(t.TempDir(), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ServerTLS(files.Cert, files.Key)
	if err != nil {
		t.Fatal(err)
	}
	tm := startMaster(t, nil)
	addr := serveListener(t, tm.m, cfg)
	pool, err := tlsclient.LoadCA(files.CA)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	trusted, err := NewClient("https://"+addr, adminToken, WithCA(pool))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trusted.Jobs(ctx); err != nil {
		t.Fatalf("Jobs over https with the CA: %v", err)
	}
	untrusted, _ := NewClient("https://"+addr, adminToken)
	_, err = untrusted.Jobs(ctx)
	if err == nil || !strings.Contains(err.Error(), "--ca FILE") || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Jobs over https without the CA = %v, want a certificate error naming --ca", err)
	}
	plain, _ := NewClient("http://"+addr, adminToken)
	_, err = plain.Jobs(ctx)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 || !strings.Contains(ae.Message, "https://") {
		t.Fatalf("Jobs over http to the TLS port = %v, want a JSON 400 naming https://", err)
	}
	// net/http's own answers are JSON over TLS too.
	clientCfg := &tls.Config{RootCAs: pool}
	status, ct, body := rawRequest(t, addr, clientCfg,
		fmt.Sprintf("GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", strings.Repeat("y", 200<<10)))
	assertJSONError(t, "oversized header over TLS", status, ct, body, 431)
	status, ct, body = rawRequest(t, addr, clientCfg, "GET /api/v1/jobs/../x HTTP/1.1\r\nHost: x\r\n\r\n")
	assertJSONError(t, "unclean path over TLS", status, ct, body, 400)
}
