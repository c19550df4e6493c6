package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/agent/fetch"
)

// `ferry job list` and `ferry job show` of a master with a migrate job and
// a fetch job: the list has both, with a TYPE column; show and --json of
// the fetch job give its state, tasks and callbacks by state; an action a
// fetch job does not take is refused; delete removes it.
func TestJobs_listShowsFetchJobs(t *testing.T) {
	e := startEmu(t, fxBucket)
	m := fxStartMaster(t, freeAddr(t), filepath.Join(t.TempDir(), "master.db"))
	fj := fxCreateJob(t, m, e, "--allow-private-urls")
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "a.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := e.env()
	vars["FERRY_MASTER"], vars["FERRY_ADMIN_TOKEN"] = m.url, fxAdmin
	mig := strings.TrimSpace(mustFerry(t, vars, "job", "create", "--from", src, "--to", "us3://"+fxBucket+"/migrated").stdout)
	// One task waits for an agent (none runs): the fetch job is running.
	if resp, status, err := fxSubmitter(m).Post(context.Background(), fetch.Request{URL: "http://example.com/a.bin",
		Bucket: fxBucket, Key: "a.bin", JobID: fj}); err != nil || status != 200 {
		t.Fatalf("POST /fetch/ = %d %+v %v", status, resp, err)
	}
	op := map[string]string{"FERRY_MASTER": m.url, "FERRY_ADMIN_TOKEN": fxAdmin}

	list := mustFerry(t, op, "job", "list").stdout
	rows := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		f := strings.Fields(line)
		rows[f[0]] = f
	}
	if h := rows["ID"]; len(h) < 3 || h[1] != "TYPE" || h[2] != "STATE" {
		t.Fatalf("job list header: %q", list)
	}
	if r := rows[fj]; len(r) < 3 || r[1] != "fetch" || r[2] != "running" || !strings.Contains(list, "/fetch/ → us3://"+fxBucket) {
		t.Errorf("job list row of the fetch job %s: %q in\n%s", fj, r, list)
	}
	if r := rows[mig]; len(r) < 2 || r[1] != "migrate" || !strings.Contains(list, src+" → us3://"+fxBucket+"/migrated") {
		t.Errorf("job list row of the migrate job %s: %q in\n%s", mig, r, list)
	}

	var views []agent.JobView
	if out := mustFerry(t, op, "job", "list", "--json").stdout; json.Unmarshal([]byte(out), &views) != nil || len(views) != 2 {
		t.Fatalf("job list --json: %s", out)
	}
	types := map[string]string{}
	for _, v := range views {
		types[v.ID] = v.Type
	}
	if types[fj] != "fetch" || types[mig] != "migrate" {
		t.Errorf("job list --json types: %v", types)
	}

	show := mustFerry(t, op, "job", "show", fj).stdout
	for _, want := range []string{"job " + fj + ": running (fetch)", "destination  us3://" + fxBucket, "keys         " + fxPub,
		"tasks        1 (1 pending, 0 leased, 0 running, 0 done, 0 failed)", "callbacks    "} {
		if !strings.Contains(show, want) {
			t.Errorf("job show %s lacks %q:\n%s", fj, want, show)
		}
	}
	var v agent.JobView
	if out := mustFerry(t, op, "job", "show", fj, "--json").stdout; json.Unmarshal([]byte(out), &v) != nil ||
		v.Type != "fetch" || v.Fetch == nil || v.Fetch.Tasks["pending"] != 1 || strings.Join(v.Fetch.PublicKeys, ",") != fxPub {
		t.Errorf("job show --json of the fetch job: %+v", v)
	} else if strings.Contains(out, fxPriv) || strings.Contains(out, e.key) {
		t.Errorf("job show --json leaks a secret: %s", out)
	}
	if show := mustFerry(t, op, "job", "show", mig).stdout; !strings.Contains(show, "job "+mig+": ") || !strings.Contains(show, "ranges") {
		t.Errorf("job show of the migrate job:\n%s", show)
	}

	if r := ferry(t, op, "job", "pause", fj); r.code != 1 || !strings.Contains(r.stderr, "is a fetch job: pause is not supported") || !strings.Contains(r.stderr, "HTTP 400") {
		t.Errorf("job pause of a fetch job: exit %d, %q", r.code, r.stderr)
	}
	if r := mustFerry(t, op, "job", "delete", fj); !strings.Contains(r.stdout, "job "+fj+" deleted") {
		t.Errorf("job delete: %q", r.stdout)
	}
	if r := ferry(t, op, "job", "show", fj); r.code != 1 || !strings.Contains(r.stderr, `unknown job "`+fj+`"`) {
		t.Errorf("job show after delete: exit %d, %q", r.code, r.stderr)
	}
}
