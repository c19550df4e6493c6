package agent

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"sync"
)

// Listener wraps ln for the master's http.Server so that even the answers
// net/http writes itself, before any handler runs, are JSON:
//
//   - A request whose header is larger than the server's MaxHeaderBytes,
//     or that net/http cannot parse, is answered by http.Server's conn
//     loop with a fixed plain-text response (431 Request Header Fields Too
//     Large, 400 Bad Request, 501 for an unknown transfer encoding) written
//     straight to the connection: no handler, ErrorLog or ConnState hook
//     can change it. The connections Listener returns recognise exactly
//     that response in their Write (one write of "HTTP/1.1 <code> …" with
//     net/http's fixed error headers and no Date) and write the same status
//     with a JSON body {"error": "…"} instead.
//   - With cfg (TLS), the connections are TLS connections wrapped that way
//     (so the rewrite sees plain text), and a plain-HTTP request to the
//     TLS port gets a JSON 400 that names the https scheme instead of
//     net/http's plain "Client sent an HTTP request to an HTTPS server".
//
// cfg should offer only HTTP/1.1 (NextProtos): the server does not see
// the wrapped connection as a *tls.Conn, so it never negotiates HTTP/2 and
// requests carry no Request.TLS.
func Listener(ln net.Listener, cfg *tls.Config) net.Listener {
	return &jsonListener{Listener: ln, tls: cfg}
}

type jsonListener struct {
	net.Listener
	tls *tls.Config
}

// Accept returns the next connection, wrapped.
func (l *jsonListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if l.tls == nil {
		return &jsonConn{Conn: c}, nil
	}
	return &jsonConn{Conn: tls.Server(c, l.tls), raw: c}, nil
}

// jsonConn rewrites net/http's connection-level plain-text errors as JSON.
type jsonConn struct {
	net.Conn
	raw net.Conn // under TLS: the TCP connection; nil without TLS

	mu      sync.Mutex
	refused bool // a plain-HTTP request on the TLS port was answered
}

// connErrorRe matches one connection-level error response of net/http
// (server.go, conn.serve): status line, its fixed headers, plain body.
var connErrorRe = regexp.MustCompile(`\AHTTP/1\.1 ([1-5][0-9][0-9]) [^\r\n]*\r\n` +
	`Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n([^\r\n]*)\z`)

// Write passes b on, unless b is a connection-level error response of
// net/http, which it answers as JSON.
func (c *jsonConn) Write(b []byte) (int, error) {
	if !bytes.HasPrefix(b, []byte("HTTP/1.1 ")) {
		return c.Conn.Write(b)
	}
	m := connErrorRe.FindSubmatch(b)
	if m == nil {
		return c.Conn.Write(b)
	}
	c.mu.Lock()
	refused := c.refused
	c.mu.Unlock()
	if refused {
		return len(b), nil // the TLS port already answered in plain HTTP
	}
	code, _ := strconv.Atoi(string(m[1]))
	msg := string(m[2])
	if code == 431 {
		msg = "request header fields too large"
	}
	if _, err := c.Conn.Write(jsonResponse(code, msg)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Read passes on; on the TLS port, a first record that is a plain HTTP
// request is answered with a JSON 400 in plain HTTP.
func (c *jsonConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	var re tls.RecordHeaderError
	if err != nil && c.raw != nil && errors.As(err, &re) && re.Conn != nil && looksLikeHTTP(re.RecordHeader) {
		c.mu.Lock()
		first := !c.refused
		c.refused = true
		c.mu.Unlock()
		if first {
			_, _ = re.Conn.Write(jsonResponse(400, "this master serves HTTPS: use an https:// URL"))
			re.Conn.Close()
		}
	}
	return n, err
}

// CloseWrite half-closes the connection when it can (net/http does after
// a 431 so that the client reads the answer).
func (c *jsonConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// looksLikeHTTP reports whether the first five bytes of a connection are
// an HTTP request line (as net/http itself checks).
func looksLikeHTTP(hdr [5]byte) bool {
	switch string(hdr[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO", "DELET", "PATCH":
		return true
	}
	return false
}

// jsonResponse is a whole HTTP/1.1 response with status code and body
// {"error": msg, "code": …}, closing the connection.
func jsonResponse(code int, msg string) []byte {
	body, _ := json.Marshal(errorBody{Error: msg, Code: ErrorCode(code)})
	body = append(body, '\n')
	text := http.StatusText(code)
	return fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		code, text, len(body), body)
}

// ServerTLS returns the master's TLS configuration for the PEM
// certificate (chain) and key files: TLS 1.2 or newer, HTTP/1.1 only.
func ServerTLS(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"}}, nil
}
