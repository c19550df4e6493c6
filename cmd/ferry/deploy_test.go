package main

import (
	"os"
	"path/filepath"
	"testing"
)

// The flags of the deployment features are checked before anything is
// opened: one line, exit 2, nothing created.
func TestDeployFlagsRefused(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "m.db")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"backup-every without backup-to", []string{"master", "--db", db, "--backup-every", "1m"}, "--backup-every needs --backup-to"},
		{"backup-every of 0", []string{"master", "--db", db, "--backup-to", dir, "--backup-every", "0s"}, "must be more than 0"},
		{"grace without master", []string{"migrate", "run", "--from", dir, "--to", filepath.Join(dir, "x"), "--grace", "5s"}, "--grace is for agents"},
		{"health-listen without master", []string{"migrate", "run", "--from", dir, "--to", filepath.Join(dir, "x"), "--health-listen", "127.0.0.1:0"}, "--health-listen is for agents"},
		{"exit-when-idle without master", []string{"migrate", "run", "--from", dir, "--to", filepath.Join(dir, "x"), "--exit-when-idle"}, "--exit-when-idle is for agents"},
		{"grace of 0", []string{"migrate", "run", "--master", "http://127.0.0.1:1", "--grace", "0s"}, "--grace 0s: must be more than 0"},
		{"restore without from", []string{"master", "restore", "--db", db}, "needs --from"},
		{"restore from an empty location", []string{"master", "restore", "--from", dir, "--db", db}, "no snapshot"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errb := ferryRun(t, map[string]string{"FERRY_CLUSTER_TOKEN": "t", "FERRY_STATE_DIR": filepath.Join(dir, "state")}, c.args...)
			wantOneLine(t, code, 2, out, errb, c.want)
			if names := listDir(t, dir); len(names) != 0 {
				t.Fatalf("a refused command left %v", names)
			}
		})
	}
	// An existing database is kept unless --force.
	if err := os.WriteFile(db, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errb := ferryRun(t, nil, "master", "restore", "--from", dir, "--db", db)
	wantOneLine(t, code, 2, out, errb, "add --force")
}
