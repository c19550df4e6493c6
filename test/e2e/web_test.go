package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// startBrowser starts headless Chromium (Debian's chromium, which make
// tools installs) with a fresh profile; on failure the test saves a
// screenshot of the page it was on and logs where.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Fatal("no chromium on PATH: make tools installs it (apt-get install chromium)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil {
		cancelB()
		cancelA()
		t.Fatalf("start chromium: %v", err)
	}
	// Accept every confirmation dialog, as an operator clicking OK does.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100)); err == nil {
				dir, _ := os.MkdirTemp("", "ferry-web-"+t.Name()+"-")
				f := filepath.Join(dir, "failure.png")
				if os.WriteFile(f, png, 0o644) == nil {
					t.Logf("screenshot of the failing page: %s", f)
				}
			}
			cancel()
		}
		cancelB()
		cancelA()
	})
	return ctx
}

// run runs browser actions with a time limit.
func run(t *testing.T, ctx context.Context, limit time.Duration, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	if err := chromedp.Do(c, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, what, expr string) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// waitText waits until the element sel's text contains want.
func waitText(t *testing.T, ctx context.Context, sel, want string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var got string
	for time.Now().Before(deadline) {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		var err error
		got, err = chromedp.Run(c, chromedp.Text(chromedp.CSS(sel)))
		cancel()
		if err == nil && strings.Contains(got, want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: text %q, want %q", sel, got, want)
}

// TestWebConsole drives the console in a real browser: sign in, save a
// source and browse it, create a job from it in the form, pause and resume it, start two agents, watch the job
// page reach 100% over SSE without a reload, see both agents, and one of
// them lost after it is killed.
func TestWebConsole(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	for i := range 300 {
		p := filepath.Join(src, fmt.Sprintf("d%02d", i%10), fmt.Sprintf("f%03d.bin", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.Repeat(fmt.Sprint(i), 2000)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := startMasterProc(t, freeAddr(t), filepath.Join(t.TempDir(), "master.db"))
	ctx := startBrowser(t)

	// Sign in: / leads to the sign-in page, which leads back to the overview.
	run(t, ctx, 30*time.Second, "sign in",
		chromedp.Navigate(m.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="token"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="token"]`), adminTok),
		chromedp.Submit(chromedp.CSS(`form.login`)),
		chromedp.WaitVisible(chromedp.CSS(`div.cards`)),
	)
	waitText(t, ctx, "h1", "Overview", 10*time.Second)

	// Save the source, test it (its first level), then create a job from
	// it in the form; the schedule preview explains a bad cron.
	run(t, ctx, 30*time.Second, "save a source",
		chromedp.Navigate(m.url+"/ui/sources"),
		chromedp.WaitVisible(chromedp.CSS(`form.newjob`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "share"),
		chromedp.SendKeys(chromedp.CSS(`input[name="uri"]`), filepath.Dir(src)),
		chromedp.Click(chromedp.CSS(`form.newjob button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr.source`)),
		chromedp.Click(chromedp.CSS(`tr.source td a`)),
		chromedp.WaitVisible(chromedp.CSS(`table.browse`)),
	)
	waitText(t, ctx, "table.browse", filepath.Base(src)+"/", 10*time.Second)
	run(t, ctx, 30*time.Second, "new job form",
		chromedp.Navigate(m.url+"/ui/jobs/new?from=share"),
		chromedp.WaitVisible(chromedp.CSS(`form.newjob`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="schedule"]`), "61 * * * *"),
	)
	waitText(t, ctx, "#schedule-preview", "Invalid schedule", 10*time.Second)
	eval[string](t, ctx, "clear schedule", `document.querySelector('input[name="schedule"]').value = ""`)
	run(t, ctx, 30*time.Second, "create job",
		chromedp.SendKeys(chromedp.CSS(`input[name="source"]`), filepath.Base(src)),
		chromedp.SendKeys(chromedp.CSS(`input[name="dest"]`), dst),
		chromedp.SendKeys(chromedp.CSS(`input[name="workers"]`), "4"),
		chromedp.Click(chromedp.CSS(`form.newjob button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`progress#progress`)),
	)
	waitText(t, ctx, ".flash", "Created job", 10*time.Second)
	id := eval[string](t, ctx, "job id", `document.querySelector("h1 .id").textContent`)

	// Pause and resume (each with its confirmation).
	run(t, ctx, 20*time.Second, "pause", chromedp.Click(chromedp.CSS(`form[action$="/pause"] button`)))
	waitText(t, ctx, ".flash", "Paused.", 10*time.Second)
	waitText(t, ctx, `h1 [data-live="state"]`, "paused", 10*time.Second)
	run(t, ctx, 20*time.Second, "resume", chromedp.Click(chromedp.CSS(`form[action$="/resume"] button`)))
	waitText(t, ctx, ".flash", "Resumed.", 10*time.Second)

	// Mark the page: a reload would lose the mark.
	eval[int](t, ctx, "mark", `window.ferryMark = 1`)
	startAgent(t, m, "web-agent-1", nil)
	second := startAgent(t, m, "web-agent-2", nil)
	deadline := time.Now().Add(90 * time.Second)
	for {
		pct := eval[float64](t, ctx, "progress", `document.getElementById("progress").value`)
		if pct == 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: the page's progress stayed at %v%%", id, pct)
		}
		time.Sleep(200 * time.Millisecond)
	}
	waitText(t, ctx, `h1 [data-live="state"]`, "done", 30*time.Second)
	if eval[int](t, ctx, "mark kept", `window.ferryMark || 0`) != 1 {
		t.Fatal("the job page was reloaded: progress must arrive over SSE")
	}
	waitText(t, ctx, `[data-live="objects"]`, "300", 10*time.Second)

	// The agents page shows both agents online.
	run(t, ctx, 20*time.Second, "agents page",
		chromedp.Navigate(m.url+"/ui/agents"),
		chromedp.WaitVisible(chromedp.CSS(`table.list`)),
	)
	if n := eval[int](t, ctx, "count agents", `document.querySelectorAll("tr.agent").length`); n != 2 {
		t.Fatalf("agents page lists %d agents, want 2", n)
	}
	waitText(t, ctx, "table.list", "web-agent-1", 5*time.Second)
	waitText(t, ctx, "table.list", "web-agent-2", 5*time.Second)

	// Killed, the second agent is shown lost once the lease TTL (3s) passed.
	second.kill()
	deadline = time.Now().Add(30 * time.Second)
	for {
		run(t, ctx, 20*time.Second, "agents page again", chromedp.Navigate(m.url+"/ui/agents"), chromedp.WaitVisible(chromedp.CSS(`table.list`)))
		lost := eval[string](t, ctx, "lost agents", `[...document.querySelectorAll("tr.agent.lost td:first-child")].map(td => td.textContent).join(",")`)
		if lost == "web-agent-2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lost agents %q, want web-agent-2", lost)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
