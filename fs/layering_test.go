package fs_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering: the contracts and every driver under fs know nothing of
// the engine, the catalogs or the master (DESIGN: imports flow
// cmd → agent → transfer → catalog, fs). A driver that needs a Sink type
// finds it in fs.
func TestLayering(t *testing.T) {
	pkgs, err := exec.Command("go", "list", "github.com/ferry-project/ferry/fs/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []string{
		"github.com/ferry-project/ferry/transfer",
		"github.com/ferry-project/ferry/catalog",
		"github.com/ferry-project/ferry/agent",
		"github.com/ferry-project/ferry/cmd",
	}
	for _, p := range strings.Fields(string(pkgs)) {
		deps, err := exec.Command("go", "list", "-deps", p).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", p, err)
		}
		for _, d := range strings.Fields(string(deps)) {
			for _, f := range forbidden {
				if d == f || strings.HasPrefix(d, f+"/") {
					t.Errorf("%s depends on %s", p, d)
				}
			}
		}
	}
}
