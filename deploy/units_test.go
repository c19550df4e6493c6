package deploy

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// unit is a parsed systemd unit file: section → key → values in order.
type unit map[string]map[string][]string

func readUnit(t *testing.T, file string) unit {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s: bad line %q", file, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// units are the shipped unit files.
func units(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("systemd/*.service")
	if err != nil || len(files) != 2 {
		t.Fatalf("want the master's and the agents' units under systemd/, got %v (%v)", files, err)
	}
	return files
}

var (
	credRef   = regexp.MustCompile(`\$\{CREDENTIALS_DIRECTORY\}/([a-z-]+)`)
	tokenFlag = regexp.MustCompile(`--[a-z-]*token[ =]`)
)

func TestUnits(t *testing.T) {
	for _, file := range units(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			u := readUnit(t, file)
			svc := u["Service"]
			if len(svc["ExecStart"]) != 1 || !strings.HasPrefix(svc["ExecStart"][0], "/usr/local/bin/ferry ") {
				t.Fatalf("ExecStart = %q, want one ferry command", svc["ExecStart"])
			}
			exec := svc["ExecStart"][0]
			if tokenFlag.MatchString(exec) {
				t.Errorf("ExecStart passes a token on the command line (visible in ps): %s", exec)
			}
			creds := map[string]bool{}
			for _, lc := range svc["LoadCredential"] {
				name, src, ok := strings.Cut(lc, ":")
				if !ok || !strings.HasPrefix(src, "/etc/ferry/") {
					t.Errorf("LoadCredential %q: want name:/etc/ferry/file", lc)
				}
				creds[name] = true
			}
			for _, m := range credRef.FindAllStringSubmatch(exec, -1) {
				if !creds[m[1]] {
					t.Errorf("ExecStart reads credential %q that no LoadCredential= provides", m[1])
				}
			}
			for k, want := range map[string]string{
				"ProtectSystem": "strict", "NoNewPrivileges": "yes", "DynamicUser": "yes",
				"PrivateTmp": "yes", "ProtectHome": "yes", "KillSignal": "SIGTERM",
			} {
				if got := svc[k]; len(got) != 1 || got[0] != want {
					t.Errorf("%s=%v, want %s", k, got, want)
				}
			}
			if len(svc["StateDirectory"]) != 1 {
				t.Errorf("no StateDirectory=")
			}
			if u["Install"]["WantedBy"] == nil {
				t.Errorf("no [Install] WantedBy=")
			}
		})
	}
}
