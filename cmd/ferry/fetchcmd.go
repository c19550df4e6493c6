package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/agent/fetch"
	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/internal/tlsclient"
)

// fetchCommand posts signed fetch requests to a master, or shows a task.
// "status" is an argument, not a subcommand, so flags may follow the
// arguments as everywhere else.
func fetchCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "fetch",
		Usage: "ask a master to fetch URLs into a bucket (signed POST /fetch/), or show a task",
		UsageText: "ferry fetch --master URL --job ID --key-pair-file FILE URL BUCKET/KEY\n" +
			"ferry fetch --master URL --job ID --key-pair-file FILE --from-list FILE   (lines: URL BUCKET/KEY)\n" +
			"ferry fetch status --master URL --key-pair-file FILE TASKID\n" +
			"(the key pair PUB:PRIV also comes from FERRY_FETCH_KEY_PAIR)",
		Description: "Prints the TaskId of each accepted request, one per line, in input order.\n" +
			"A request the master refuses is reported on stderr with its RetCode and message.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "master", EnvVars: []string{"FERRY_MASTER"}, Usage: "master URL (http://host:7070)"},
			&cli.StringFlag{Name: "job", EnvVars: []string{"FERRY_FETCH_JOB"}, Usage: "ID of the fetch job"},
			&cli.StringFlag{Name: "key-pair", Usage: "PUBLIC:PRIVATE fetch key of the job (visible in ps: prefer --key-pair-file or FERRY_FETCH_KEY_PAIR)"},
			&cli.StringFlag{Name: "key-pair-file", Usage: "read the PUBLIC:PRIVATE fetch key from this file (first line)"},
			caFlag(),
			&cli.StringFlag{Name: "success-callback", Usage: "URL the master POSTs the success callback to"},
			&cli.StringFlag{Name: "failure-callback", Usage: "URL the master POSTs the failure callback to"},
			&cli.StringFlag{Name: "from-list", Usage: "post one request per line \"URL BUCKET/KEY\" of this file (# comments, blank lines skipped)"},
			&cli.IntFlag{Name: "concurrency", Value: 8, Usage: "requests in flight with --from-list"},
		},
		Action: func(c *cli.Context) error { return e.fetchRun(c) },
	}
}

// fetchRun dispatches on the arguments.
func (e *env) fetchRun(c *cli.Context) error {
	sub, err := e.submitter(c)
	if err != nil {
		return err
	}
	if c.Args().First() == "status" {
		if c.NArg() != 2 {
			return usageErr("ferry fetch status needs exactly one TASKID")
		}
		st, code, err := sub.Status(c.Context, c.Args().Get(1))
		if err != nil {
			return tlsclient.Explain(err)
		}
		if st.RetCode != 0 {
			return fmt.Errorf("fetch status refused (%d, RetCode %d): %s", code, st.RetCode, st.ErrMsg)
		}
		return writeJSON(e.stdout, st)
	}
	if c.String("job") == "" {
		return usageErr("ferry fetch needs --job (or FERRY_FETCH_JOB)")
	}
	if list := c.String("from-list"); list != "" {
		if c.NArg() != 0 {
			return usageErr("ferry fetch --from-list takes no arguments")
		}
		return e.fetchList(c, sub, list)
	}
	if c.NArg() != 2 {
		return usageErr("ferry fetch needs URL and BUCKET/KEY (or --from-list FILE)")
	}
	req, err := fetchRequest(c, c.Args().Get(0), c.Args().Get(1))
	if err != nil {
		return usageErr("%w", err)
	}
	id, err := postWithRetry(c.Context, sub, req)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, id)
	return nil
}

// submitter builds the signing client from --master and --key-pair.
func (e *env) submitter(c *cli.Context) (*fetch.Submitter, error) {
	master := c.String("master")
	if master == "" {
		return nil, usageErr("ferry fetch needs --master (or FERRY_MASTER)")
	}
	pair, err := e.secret(c, "key-pair", "FERRY_FETCH_KEY_PAIR")
	if err != nil {
		return nil, err
	}
	pub, priv, ok := strings.Cut(pair, ":")
	if !ok || pub == "" || priv == "" {
		return nil, usageErr("ferry fetch needs the key pair PUBLIC:PRIVATE: --key-pair-file FILE or FERRY_FETCH_KEY_PAIR")
	}
	pool, err := e.caPool(c)
	if err != nil {
		return nil, err
	}
	hc := masterHTTP(pool, c.Int("concurrency"))
	hc.Timeout = time.Minute
	return &fetch.Submitter{Master: master, Public: pub, Private: priv, HTTP: hc}, nil
}

// fetchRequest builds a request for url and "BUCKET/KEY".
func fetchRequest(c *cli.Context, url, dest string) (fetch.Request, error) {
	bucket, key, ok := strings.Cut(dest, "/")
	if !ok || bucket == "" || key == "" {
		return fetch.Request{}, fmt.Errorf("destination %q: want BUCKET/KEY", dest)
	}
	return fetch.Request{URL: url, Bucket: bucket, Key: key, JobID: c.String("job"),
		SuccessCallbackURL: c.String("success-callback"), FailureCallbackURL: c.String("failure-callback")}, nil
}

// postWithRetry posts req, waiting and retrying while the master's queue
// is full (429), it fails (5xx) or cannot be reached; refusals are errors.
func postWithRetry(ctx context.Context, sub *fetch.Submitter, req fetch.Request) (string, error) {
	wait := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		resp, status, err := sub.Post(ctx, req)
		err = tlsclient.Explain(err)
		transient := err != nil || status == http.StatusTooManyRequests || status >= 500
		switch {
		case !transient && resp.RetCode == 0 && resp.TaskID != "":
			return resp.TaskID, nil
		case !transient:
			return "", fmt.Errorf("fetch %s refused (%d, RetCode %d): %s", req.URL, status, resp.RetCode, resp.ErrMsg)
		case attempt >= 8:
			if err != nil {
				return "", err
			}
			return "", fmt.Errorf("fetch %s: master answered %d (RetCode %d): %s", req.URL, status, resp.RetCode, resp.ErrMsg)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 10*time.Second)
	}
}

// fetchList posts every line of a list, concurrency at a time, and prints
// the TaskIds in input order. Lines that fail are reported on stderr and
// make the exit code exitPartial.
func (e *env) fetchList(c *cli.Context, sub *fetch.Submitter, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return usageErr("--from-list: %w", err)
	}
	defer f.Close()
	type line struct {
		n   int
		req fetch.Request
	}
	var lines []line
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) != 2 {
			return usageErr("%s:%d: want \"URL BUCKET/KEY\"", path, n)
		}
		req, err := fetchRequest(c, fields[0], fields[1])
		if err != nil {
			return usageErr("%s:%d: %w", path, n, err)
		}
		lines = append(lines, line{n, req})
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	ids := make([]string, len(lines))
	errs := make([]error, len(lines))
	sem := make(chan struct{}, max(c.Int("concurrency"), 1))
	var wg sync.WaitGroup
	for i, l := range lines {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ids[i], errs[i] = postWithRetry(c.Context, sub, l.req)
		}()
	}
	wg.Wait()
	failed := 0
	w := bufio.NewWriter(e.stdout)
	for i, id := range ids {
		if errs[i] != nil {
			failed++
			fmt.Fprintf(e.stderr, "ferry: %s:%d: %v\n", path, lines[i].n, errs[i])
			continue
		}
		fmt.Fprintln(w, id)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write task IDs: %w", err)
	}
	if failed > 0 {
		return codeError{exitPartial, fmt.Errorf("%d of %d requests failed", failed, len(lines))}
	}
	return nil
}

// fetchJobFlags are the flags `ferry job create --type fetch` adds.
func fetchJobFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "type", Value: "migrate", Usage: "job type: migrate (--from → --to) or fetch (URLs posted to /fetch/ → --to)"},
		&cli.StringSliceFlag{Name: "fetch-key", EnvVars: []string{"FERRY_FETCH_KEYS"}, Usage: "fetch jobs: PUBLIC:PRIVATE key pair allowed to sign requests (repeatable; visible in ps: prefer --fetch-key-file or FERRY_FETCH_KEYS, comma-separated)"},
		&cli.StringFlag{Name: "fetch-key-file", Usage: "fetch jobs: file of PUBLIC:PRIVATE key pairs allowed to sign requests, one a line (# comments)"},
		&cli.StringSliceFlag{Name: "allowed-bucket", Usage: "fetch jobs: a bucket requests may name (repeatable; default: the --to bucket)"},
		&cli.BoolFlag{Name: "allow-private-urls", Usage: "fetch jobs: allow URLs on loopback, link-local, private and other special-purpose addresses"},
		&cli.BoolFlag{Name: "allow-private-callbacks", Usage: "fetch jobs: allow callback URLs on loopback, link-local, private and other special-purpose addresses"},
		&cli.BoolFlag{Name: "reject-replays", Usage: "fetch jobs: require a Date within 15m and Content-MD5, and refuse a signature used twice"},
		&cli.IntFlag{Name: "concurrency", Usage: "fetch jobs: parallel ranged parts per URL (default: the agent's)"},
		&cli.IntFlag{Name: "max-queue", Usage: "fetch jobs: most unfinished requests (429 beyond; 0: the master's limit only)"},
	}
}

// fetchJobCreate is `ferry job create --type fetch`: it prints the job ID.
func (e *env) fetchJobCreate(c *cli.Context) error {
	for _, f := range []string{"from", "files", "schedule"} {
		if c.IsSet(f) {
			return usageErr("a fetch job takes no --%s (requests name the URLs)", f)
		}
	}
	if c.String("to") == "" {
		return usageErr("job create --type fetch needs --to (e.g. us3://BUCKET)")
	}
	if c.String("master") == "" {
		return usageErr("job create needs --master (or FERRY_MASTER)")
	}
	spec := fetch.JobSpec{Dest: c.String("to"), AllowedBuckets: c.StringSlice("allowed-bucket"),
		AllowPrivateURLs: c.Bool("allow-private-urls"), Concurrency: c.Int("concurrency"), MaxQueue: c.Int("max-queue"),
		AllowPrivateCallbacks: c.Bool("allow-private-callbacks"), RejectReplays: c.Bool("reject-replays"),
		Credentials: map[string]string{}}
	pairs := c.StringSlice("fetch-key")
	if f := c.String("fetch-key-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return usageErr("--fetch-key-file: %w", err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				pairs = append(pairs, line)
			}
		}
	}
	for _, kp := range pairs {
		pub, priv, ok := strings.Cut(kp, ":")
		if !ok || pub == "" || priv == "" {
			return usageErr("fetch key: want PUBLIC:PRIVATE")
		}
		spec.Keys = append(spec.Keys, fetch.JobKey{Public: pub, Private: priv})
	}
	if len(spec.Keys) == 0 {
		return usageErr("a fetch job needs at least one key pair PUBLIC:PRIVATE: --fetch-key-file FILE or FERRY_FETCH_KEYS")
	}
	for _, k := range credentialNames() {
		if v := e.getenv(k); v != "" {
			spec.Credentials[k] = v
		}
	}
	cl, err := e.client(c)
	if err != nil {
		return err
	}
	v, err := fetch.CreateJob(c.Context, cl, spec)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, v.ID)
	return nil
}

// fetchMasterFlags are the fetch flags of `ferry master`.
func fetchMasterFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "fetch-max-queue", Value: 100000, Usage: "most unfinished fetch requests of all jobs (429 beyond)"},
		&cli.DurationFlag{Name: "fetch-lease-ttl", Value: 30 * time.Second, Usage: "a fetch task not renewed for this long goes back to the queue"},
		&cli.IntFlag{Name: "callback-attempts", Value: 20, Usage: "deliveries of a fetch callback before giving up"},
		&cli.DurationFlag{Name: "callback-backoff", Value: 2 * time.Second, Usage: "wait after the first failed callback delivery (doubling up to 5m)"},
	}
}

// fetchService builds the master's fetch endpoint, agent API and callback
// dispatcher over the master's fetch queue.
func (e *env) fetchService(c *cli.Context, db *catalog.FetchQueue, log *slog.Logger) (*fetch.Service, error) {
	open := jobOpener{e}
	return fetch.NewService(c.Context, fetch.ServiceConfig{
		DB: db, Logger: log,
		Handler:   fetch.HandlerOptions{MaxQueue: c.Int("fetch-max-queue")},
		Agents:    fetch.AgentAPIOptions{TTL: c.Duration("fetch-lease-ttl")},
		Callbacks: fetch.DispatcherOptions{MaxAttempts: c.Int("callback-attempts"), BackoffMin: c.Duration("callback-backoff")},
		JobAPI: fetch.JobAPIOptions{Check: func(ctx context.Context, j fetch.Job) error {
			bucket := ""
			if len(j.AllowedBuckets) > 0 {
				bucket = j.AllowedBuckets[0]
			} else if u, err := fs.ParseURI(j.Dest); err == nil {
				bucket = u.Bucket
			}
			dest, err := j.SinkURI(bucket)
			if err != nil {
				return err
			}
			_, err = open.OpenDest(ctx, agent.Location{URI: dest, Creds: j.Creds, Conns: 2})
			return err
		}},
	})
}

// fetchWorker builds an agent's fetch worker: it leases fetch tasks from
// the master beside ranges and streams them into their destinations.
func (e *env) fetchWorker(master, token string, ca *x509.CertPool, name string, slots int, log *slog.Logger) (*fetch.Worker, error) {
	open := jobOpener{e}
	client, err := agent.NewClient(master, token, agent.WithCA(ca), agent.WithConns(slots))
	if err != nil {
		return nil, err
	}
	return fetch.NewWorker(fetch.WorkerOptions{
		Client: client, Agent: name, Slots: slots, Logger: log,
		Executor: fetch.NewExecutor(fetch.ExecutorOptions{Logger: log}),
		Open: func(ctx context.Context, dest string, creds map[string]string) (fs.Sink, error) {
			return open.OpenDest(ctx, agent.Location{URI: dest, Creds: creds, Conns: 16})
		},
	})
}
