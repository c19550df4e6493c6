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
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "100.64.0.1"}
	allowed := []string{"8.8.8.8", "172.32.0.1", "1.1.1.1", "2001:4860:4860::8888"}
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
		{"http://10.0.0.1/", true}, {"http://localhost/x", true}, {"http://1.2.3.4.5/", false}, {"http://a.0x1/", false},
	} {
		_, err := p.CheckURL(c.url)
		if err == nil || errors.Is(err, ErrRefused) != c.refused {
			t.Errorf("CheckURL(%q) = %v, refused want %v", c.url, err, c.refused)
		}
	}
	// Names are not resolved here; literal public addresses pass.
	for _, ok := range []string{"https://example.com/a?b=c", "http://8.8.8.8/"} {
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

// Special-purpose addresses outside the old private classes, and IPv4
// embedded in IPv6 (mapped, compatible, NAT64, 6to4, Teredo), are refused.
// Only the policy function is called: nothing is dialed.
func TestPolicy_CheckAddr_specialPurpose(t *testing.T) {
	var p Policy
	for _, s := range []string{
		"100.64.0.1", "100.100.100.200", "198.18.0.1", "198.19.255.255", "240.0.0.1", "255.255.255.255",
		"192.0.0.170", "192.0.2.1", "203.0.113.9", "fec0::1", "::127.0.0.1", "::10.0.0.1", "::ffff:100.64.0.1",
		"64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::6464:64c8", "64:ff9b:1::7f00:1",
		"2002:7f00:1::", "2002:a9fe:a9fe::1", "2001:0:4136:e378:8000:63bf:80ff:fffe", "2001:db8::1", "fe80::1%eth0",
	} {
		if err := p.CheckAddr(netip.MustParseAddr(s)); !errors.Is(err, ErrRefused) {
			t.Errorf("CheckAddr(%s) = %v, want ErrRefused", s, err)
		}
	}
	// The refusal names the IPv4 address found inside the IPv6 one.
	for s, inner := range map[string]string{
		"64:ff9b::7f00:1": "127.0.0.1", "2002:7f00:1::": "127.0.0.1", "::127.0.0.1": "127.0.0.1",
		"2001:0:4136:e378:8000:63bf:80ff:fffe": "127.0.0.1", "64:ff9b::a9fe:a9fe": "169.254.169.254",
	} {
		if err := p.CheckAddr(netip.MustParseAddr(s)); err == nil || !strings.Contains(err.Error(), inner) {
			t.Errorf("CheckAddr(%s) = %v, want it to name %s", s, err, inner)
		}
	}
	for _, s := range []string{"8.8.8.8", "100.128.0.1", "198.20.0.1", "2001:4860:4860::8888", "2a00:1450:4001::1",
		"64:ff9b::808:808", "::ffff:8.8.8.8"} {
		if err := p.CheckAddr(netip.MustParseAddr(s)); err != nil {
			t.Errorf("CheckAddr(%s) = %v, want nil", s, err)
		}
	}
}

// Every literal host form that names a refused address without DNS is
// refused before anything is queued.
func TestPolicy_CheckURL_literalForms(t *testing.T) {
	var p Policy
	for _, raw := range []string{
		"http://127.1/", "http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/", "http://0x7f.1/",
		"http://127.0.0.1./", "http://localhost/", "http://LocalHost./x", "http://foo.localhost/", "http://a.b.LOCALHOST:8080/",
		"http://100.64.0.1/", "http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::]/", "http://[::127.0.0.1]/",
		"http://[::ffff:7f00:1]/", "http://[fe80::1%25eth0]/", "http://[fec0::1]/", "http://255.255.255.255/",
		"http://0/", "http://017700000001/",
	} {
		if _, err := p.CheckURL(raw); !errors.Is(err, ErrRefused) {
			t.Errorf("CheckURL(%q) = %v, want ErrRefused", raw, err)
		}
	}
	for _, raw := range []string{"http://example.com/", "https://8.8.8.8/x", "http://[2001:4860:4860::8888]:8080/",
		"http://localhost.example.com/", "http://1.example/", "http://xn--localhost-/"} {
		if _, err := p.CheckURL(raw); err != nil {
			t.Errorf("CheckURL(%q) = %v, want nil", raw, err)
		}
	}
}

// The dialer's Control refuses the resolved special-purpose address; it is
// called directly, so no connection is attempted.
func TestPolicy_Control_specialPurpose(t *testing.T) {
	var p Policy
	for _, c := range []struct{ network, addr string }{
		{"tcp4", "100.64.0.1:80"}, {"tcp4", "100.100.100.200:80"}, {"tcp4", "198.18.0.1:443"},
		{"tcp4", "240.0.0.1:80"}, {"tcp4", "255.255.255.255:80"}, {"tcp6", "[64:ff9b::7f00:1]:80"},
		{"tcp6", "[2002:7f00:1::]:80"}, {"tcp6", "[fec0::1]:80"}, {"tcp6", "[::127.0.0.1]:80"},
		{"tcp6", "[::ffff:127.0.0.1]:80"},
	} {
		if err := p.Control(c.network, c.addr, nil); !errors.Is(err, ErrRefused) {
			t.Errorf("Control(%s, %s) = %v, want ErrRefused", c.network, c.addr, err)
		}
	}
	if err := p.Control("tcp4", "8.8.8.8:443", nil); err != nil {
		t.Errorf("Control(8.8.8.8:443) = %v", err)
	}
}
