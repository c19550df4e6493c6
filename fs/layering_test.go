package fs_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering: the contracts and every driver under fs know nothing of
// the engine, the catalogs or the master (DESIGN: imports flow
// cmd → agent → transfer → catalog, fs), and link no SQLite: a driver that
// needs a Sink type finds it in fs, and a URL list's index runs on the
// SQLite driver its caller names (urllist.Options.SQLite). Test files may
// import what they like: `go list -deps` leaves them out.
func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "github.com/ferry-project/ferry/fs/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []string{
		"github.com/ferry-project/ferry/transfer",
		"github.com/ferry-project/ferry/catalog",
		"github.com/ferry-project/ferry/agent",
		"github.com/ferry-project/ferry/cmd",
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 5 {
		t.Fatalf("go list found %d packages under fs", len(lines))
	}
	for _, line := range lines {
		f := strings.Fields(line)
		for _, d := range f[1:] {
			for _, bad := range forbidden {
				if d == bad || strings.HasPrefix(d, bad+"/") {
					t.Errorf("%s depends on %s", f[0], d)
				}
			}
			if strings.Contains(strings.ToLower(d), "sqlite") { // github.com/mattn/go-sqlite3 and any other
				t.Errorf("%s depends on %s: no package under fs links SQLite", f[0], d)
			}
		}
	}
}
