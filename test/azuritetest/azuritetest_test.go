package azuritetest

import (
	"context"
	"strings"
	"testing"
)

// TestStart: a started Azurite serves its account with the random key on
// a loopback port, and two servers do not share anything.
func TestStart(t *testing.T) {
	a, b := Start(t), Start(t)
	if !strings.HasPrefix(a.Endpoint, "http://127.0.0.1:") || !strings.HasSuffix(a.Endpoint, "/"+a.Account) {
		t.Errorf("Endpoint = %q, want http://127.0.0.1:PORT/%s", a.Endpoint, a.Account)
	}
	if a.Endpoint == b.Endpoint || a.Key == b.Key {
		t.Errorf("two servers share an endpoint or key: %q %q", a.Endpoint, b.Endpoint)
	}
	a.CreateContainer(t, "only-in-a")
	pager := b.Client().NewListContainersPager(nil)
	resp, err := pager.NextPage(context.Background())
	if err != nil {
		t.Fatalf("list containers of the second server: %v", err)
	}
	if len(resp.ContainerItems) != 0 {
		t.Errorf("second server lists %d containers, want none", len(resp.ContainerItems))
	}
}

// TestLaunch_Missing: without the binary the error says how to install it.
func TestLaunch_Missing(t *testing.T) {
	t.Setenv("AZURITE_BLOB_BIN", "")
	t.Setenv("PATH", t.TempDir())
	_, _, err := Launch(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "make tools") || !strings.Contains(err.Error(), "azurite@"+Version) {
		t.Fatalf("Launch without azurite-blob = %v, want how to install it", err)
	}
}
