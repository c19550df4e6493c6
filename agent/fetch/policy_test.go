package fetch

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestPolicy_CheckAddr(t *testing.T) {
	refused := []string{"127.0.0.1", "127.9.9.9", "::1", "169.254.169.254", "fe80::1", "10.1.2.3", "172.16.0.1",
		"172.31.255.255", "192.168.1.1", "fc00::1", "fd12::1", "0.0.0.0", "0.1.2.3", "::", "224.0.0.1", "ff02::1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1"}
	allowed := []string{"8.8.8.8", "172.32.0.1", "1.1.1.1", "2001:4860:4860::8888", "100.64.0.1"}
	var p Policy
	for _, s := range refused {
		if err := p.CheckAddr(netip.MustParseAddr(s)); !errors.Is(err, ErrRefused) {
			t.Errorf("CheckAddr(%s) = %v, want ErrRefused", s, err)
		}
		if err := (Policy{AllowPrivate: true}).CheckAddr(netip.MustParseAddr(s)); err != nil {
			t.Errorf("AllowPrivate CheckAddr(%s) = %v", s, err)
		}
	}
	for _, s := range allowed {
		if err := p.CheckAddr(netip.MustParseAddr(s)); err != nil {
			t.Errorf("CheckAddr(%s) = %v, want nil", s, err)
		}
	}
	err := p.CheckAddr(netip.MustParseAddr("169.254.169.254"))
	if !strings.Contains(err.Error(), "link-local") {
		t.Errorf("message %q does not name the class", err)
	}
}

func TestPolicy_CheckURL(t *testing.T) {
	var p Policy
	for _, c := range []struct {
		url     string
		refused bool // ErrRefused; otherwise an invalid URL
	}{
		{"ftp://example.com/x", false}, {"file:///etc/passwd", false}, {"http:///nohost", false},
		{"gopher://x/", false}, {"::bad", false},
		{"http://127.0.0.1:8080/x", true}, {"http://[::1]/x", true}, {"https://169.254.169.254/latest/meta-data", true},
		{"http://10.0.0.1/", true},
	} {
		_, err := p.CheckURL(c.url)
		if err == nil || errors.Is(err, ErrRefused) != c.refused {
			t.Errorf("CheckURL(%q) = %v, refused want %v", c.url, err, c.refused)
		}
	}
	// Names are not resolved here; literal public addresses pass.
	for _, ok := range []string{"http://localhost/x", "https://example.com/a?b=c", "http://8.8.8.8/"} {
		if _, err := p.CheckURL(ok); err != nil {
			t.Errorf("CheckURL(%q) = %v", ok, err)
		}
	}
	if _, err := (Policy{AllowPrivate: true}).CheckURL("http://127.0.0.1/x"); err != nil {
		t.Errorf("AllowPrivate refused 127.0.0.1: %v", err)
	}
}

// A name that resolves to a private address is refused when dialed.
func TestPolicy_Control_resolvedName(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the refused origin was reached")
	}))
	defer origin.Close()
	_, port, _ := net.SplitHostPort(origin.Listener.Addr().String())
	c := originClient(Policy{}, 1, 2, time.Millisecond, time.Millisecond)
	// localhost resolves (through the system resolver) to 127.0.0.1 / ::1.
	_, err := get(context.Background(), c, http.MethodGet, "http://localhost:"+port+"/x", "")
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("GET localhost = %v, want a loopback refusal", err)
	}
}

// A public-looking origin that redirects to 127.0.0.1 is refused at the
// redirect. The first hop is allowed by a policy that refuses only the
// redirect target's class, which the test server stands in for.
func TestPolicy_CheckRedirect(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the redirect target was reached")
	}))
	defer target.Close()
	redir := httptest.NewServer(http.RedirectHandler(target.URL+"/secret", http.StatusFound))
	defer redir.Close()
	var p Policy
	req, _ := http.NewRequest(http.MethodGet, target.URL+"/secret", nil)
	if err := p.CheckRedirect(req, []*http.Request{{}}); !errors.Is(err, ErrRefused) {
		t.Fatalf("CheckRedirect to 127.0.0.1 = %v, want ErrRefused", err)
	}
	// Through a real client: the first hop passes a dialer that allows
	// only the redirecting server's port, so the refusal must come from the
	// redirect check (or the dial check of the second hop).
	_, redirPort, _ := net.SplitHostPort(redir.Listener.Addr().String())
	c := originClient(Policy{}, 1, 0, time.Millisecond, time.Millisecond)
	tr := c.HTTPClient.Transport.(*http.Transport)
	strict := Policy{}.dialer()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if strings.HasSuffix(addr, ":"+redirPort) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
		return strict.DialContext(ctx, network, addr)
	}
	_, err := get(context.Background(), c, http.MethodGet, redir.URL+"/start", "")
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("GET through a redirect to 127.0.0.1 = %v, want a redirect refusal", err)
	}
	req, _ = http.NewRequest(http.MethodGet, "ftp://example.com/", nil)
	if err := (Policy{AllowPrivate: true}).CheckRedirect(req, nil); err == nil {
		t.Fatal("redirect to ftp:// allowed")
	}
	req, _ = http.NewRequest(http.MethodGet, "http://example.com/", nil)
	if err := (Policy{AllowPrivate: true}).CheckRedirect(req, make([]*http.Request, maxRedirects)); err == nil {
		t.Fatal("redirect loop not stopped")
	}
}
