// Package e2e drives the built ferry and us3emu binaries as a user would,
// against real servers on loopback (the US3 emulator, MinIO), and compares
// every byte at the destination with the source.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// bins holds the paths of the binaries under test.
var bins struct{ ferry, us3emu string }

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	bins.ferry, bins.us3emu = os.Getenv("FERRY_BIN"), os.Getenv("US3EMU_BIN")
	if bins.ferry == "" || bins.us3emu == "" {
		dir, err := os.MkdirTemp("", "ferry-e2e-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		_ = os.Chmod(dir, 0o755)
		for _, b := range []struct {
			out *string
			pkg string
		}{{&bins.ferry, "./cmd/ferry"}, {&bins.us3emu, "./test/us3emu/cmd/us3emu"}} {
			*b.out = filepath.Join(dir, filepath.Base(b.pkg))
			cmd := exec.Command("go", "build", "-o", *b.out, b.pkg)
			cmd.Dir = "../.."
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				fmt.Fprintf(os.Stderr, "build %s: %v\n", b.pkg, err)
				return 1
			}
		}
	}
	return m.Run()
}
