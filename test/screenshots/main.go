// Command screenshots writes a PNG of every page of the web console into
// -out (docs/img): it runs bin/ferry as a master with two agents on a demo
// dataset (a finished scheduled job, a job with failed objects, a paused
// job and a running one) and drives headless Chromium with chromedp. `make screenshots` runs
// it.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ferry-project/ferry/agent"
)

const (
	adminTok   = "screenshots-admin-token"
	clusterTok = "screenshots-cluster-token"
)

func main() {
	ferry := flag.String("ferry", "bin/ferry", "the ferry binary")
	out := flag.String("out", "docs/img", "directory for the PNGs")
	flag.Parse()
	if err := run(*ferry, *out); err != nil {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
}

func run(ferry, out string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "ferry-screenshots-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "photos")
	for i := range 2000 {
		p := filepath.Join(src, fmt.Sprintf("%d", 2019+i%6), fmt.Sprintf("%02d", 1+i%12), fmt.Sprintf("IMG_%04d.jpg", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(strings.Repeat("x", 1000+(i%50)*1000)), 0o644); err != nil {
			return err
		}
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	url := "http://" + addr
	procEnv := append(os.Environ(), "FERRY_ADMIN_TOKEN="+adminTok, "FERRY_CLUSTER_TOKEN="+clusterTok)
	master := exec.Command(ferry, "master", "--listen", addr, "--db", filepath.Join(dir, "master.db"), "--lease-ttl", "3s", "--heartbeat", "300ms", "--quiet")
	master.Env = procEnv
	if err := master.Start(); err != nil {
		return err
	}
	defer func() { _ = master.Process.Kill(); _ = master.Wait() }()
	api, err := agent.NewClient(url, adminTok)
	if err != nil {
		return err
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := api.Jobs(ctx); err == nil {
			break
		} else if time.Now().After(deadline) {
			return fmt.Errorf("the master did not start: %w", err)
		}
	}
	if err := api.Do(ctx, "PUT", "/api/v1/sources/photo-share", map[string]any{"uri": src, "region": "cn-bj",
		"secrets": map[string]string{"FERRY_SRC_ACCESS_KEY": "demo", "FERRY_SRC_SECRET_KEY": "demo"}}, nil); err != nil {
		return err
	}
	done, err := api.CreateJob(ctx, agent.JobSpec{Source: src, Dest: filepath.Join(dir, "backup"), Schedule: "0 2 * * *",
		Options: agent.JobOptions{Workers: 8, Skip: agent.SkipModTime}})
	if err != nil {
		return err
	}
	paths := []string{"2019/01/IMG_0000.jpg", "2019/07/IMG_0006.jpg", "2020/02/IMG_0001.jpg", "2021/13/IMG_9999.jpg", "2022/00/missing.jpg"}
	failed, err := api.CreateJob(ctx, agent.JobSpec{Source: src, Dest: filepath.Join(dir, "selection"), Paths: paths})
	if err != nil {
		return err
	}
	paused, err := api.CreateJob(ctx, agent.JobSpec{Source: src, Dest: filepath.Join(dir, "archive"), Options: agent.JobOptions{BWLimit: 50 << 20}})
	if err != nil {
		return err
	}
	if _, err := api.JobAction(ctx, paused.ID, "pause"); err != nil {
		return err
	}
	// A job held to 256 KiB/s per agent is still running while the pages are taken.
	running, err := api.CreateJob(ctx, agent.JobSpec{Source: src, Dest: filepath.Join(dir, "mirror"), Options: agent.JobOptions{BWLimit: 256 << 10, Workers: 2}})
	if err != nil {
		return err
	}
	for _, name := range []string{"agent-1", "agent-2"} {
		a := exec.Command(ferry, "migrate", "run", "--master", url, "--name", name)
		a.Env = append(procEnv, "FERRY_STATE_DIR="+filepath.Join(dir, name))
		if err := a.Start(); err != nil {
			return err
		}
		defer func() { _ = a.Process.Kill(); _ = a.Wait() }()
	}
	for _, id := range []string{done.ID, failed.ID} {
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
			j, err := api.Job(ctx, id)
			if err == nil && (j.State == "done" || j.State == "failed") {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("job %s did not finish", id)
			}
		}
	}
	time.Sleep(20 * time.Second) // samples for the chart

	chrome, err := exec.LookPath("chromium")
	if err != nil {
		return fmt.Errorf("no chromium (make tools installs it): %w", err)
	}
	actx, cancelA := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(chrome), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(filepath.Join(dir, "chrome")), chromedp.WindowSize(1280, 900))
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	if err := chromedp.Do(bctx); err != nil { // starts the browser, with no time limit
		return fmt.Errorf("start chromium: %w", err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	shot := func(name, path string, before ...chromedp.Action[chromedp.Void]) error {
		steps := append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(url + path), chromedp.WaitVisible(chromedp.CSS("main"))}, before...)
		steps = append(steps, chromedp.Sleep(1500*time.Millisecond))
		c, cancel := context.WithTimeout(bctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(c, steps...); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		png, err := chromedp.Run(c, chromedp.FullScreenshot(100))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		f := filepath.Join(out, "console-"+name+".png")
		fmt.Println("wrote", f)
		return os.WriteFile(f, png, 0o644)
	}
	if err := shot("signin", "/ui/login"); err != nil {
		return err
	}
	c, cancel := context.WithTimeout(bctx, 30*time.Second)
	err = chromedp.Do(c, chromedp.SendKeys(chromedp.CSS(`input[name="token"]`), adminTok), chromedp.Submit(chromedp.CSS("form.login")),
		chromedp.WaitVisible(chromedp.CSS("div.cards")))
	cancel()
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	for _, p := range []struct {
		name, path string
		before     []chromedp.Action[chromedp.Void]
	}{
		{"overview", "/ui/", nil},
		{"jobs", "/ui/jobs", nil},
		{"job", "/ui/jobs/" + running.ID, nil},
		{"job-done", "/ui/jobs/" + done.ID, nil},
		{"job-failed", "/ui/jobs/" + failed.ID, nil},
		{"new-job", "/ui/jobs/new", []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(chromedp.CSS(`input[name="source"]`), "s3://camera-uploads/2024/"),
			chromedp.SendKeys(chromedp.CSS(`input[name="dest"]`), "us3://photos-archive/2024/"),
			chromedp.SendKeys(chromedp.CSS(`input[name="schedule"]`), "30 1 * * *"),
		}},
		{"agents", "/ui/agents", nil},
		{"sources", "/ui/sources", nil},
		{"source-browse", "/ui/sources/photo-share?path=2021", nil},
		{"fetch", "/ui/fetch", nil},
	} {
		if err := shot(p.name, p.path, p.before...); err != nil {
			return err
		}
	}
	return nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
