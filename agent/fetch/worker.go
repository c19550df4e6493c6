package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/internal/backoff"
)

// SinkOpener opens the destination dest (a location URI) with a job's
// credentials (environment variables consulted before the agent's own)
// and checks it can be written. cmd/ferry implements it over the drivers.
type SinkOpener func(ctx context.Context, dest string, creds map[string]string) (fs.Sink, error)

// WorkerOptions configure a Worker.
type WorkerOptions struct {
	Client *agent.Client // the master, with the cluster token (required)
	Agent  string        // this agent's name (required)
	Open   SinkOpener
	// Executor runs the downloads (default NewExecutor with defaults).
	Executor *Executor
	// Slots is how many tasks run at once (default 4). Memory: at most
	// Slots × the executor's Concurrency part buffers.
	Slots int
	// Poll is the wait before asking again when there was no work
	// (default 1s).
	Poll time.Duration
	// MaxBackoff caps the retry pause while the master is unreachable
	// (default 30s): the pause doubles from 100ms with every failure in a
	// row, only the 1st, 2nd, 4th, 8th… are logged, and the first success
	// after them logs that the master is back (as the agent's lease loop).
	MaxBackoff time.Duration
	Logger     *slog.Logger
}

// Worker is the agent side of fetch tasks: it leases tasks from the
// master, runs them with the Executor into sinks from Open (cached per
// destination and credentials), renews the leases while they run and
// reports each outcome, retrying the master until it answers.
type Worker struct {
	opts WorkerOptions

	mu    sync.Mutex
	sinks map[string]fs.Sink
}

// NewWorker checks opts and returns a Worker.
func NewWorker(opts WorkerOptions) (*Worker, error) {
	if opts.Client == nil || opts.Agent == "" || opts.Open == nil {
		return nil, errors.New("new fetch worker: a client, an agent name and a sink opener are required")
	}
	if opts.Executor == nil {
		opts.Executor = NewExecutor(ExecutorOptions{Logger: opts.Logger})
	}
	if opts.Slots <= 0 {
		opts.Slots = 4
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{opts: opts, sinks: map[string]fs.Sink{}}, nil
}

// Run leases and runs tasks until ctx ends, then waits for the running
// ones to report (they are handed back for a retry) and returns ctx's error.
// While the master cannot be reached it asks less and less often (see
// WorkerOptions.MaxBackoff).
func (w *Worker) Run(ctx context.Context) error {
	free := make(chan struct{}, w.opts.Slots)
	for range w.opts.Slots {
		free <- struct{}{}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	var down backoff.Retries
	for {
		// Take every free slot (at least one).
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-free:
		}
		n := 1
		for more := true; more; {
			select {
			case <-free:
				n++
			default:
				more = false
			}
		}
		reply, err := leaseTasks(ctx, w.opts.Client, w.opts.Agent, n)
		pause := w.opts.Poll
		switch {
		case err != nil && ctx.Err() != nil:
			pause = 0 // stopping
		case err != nil:
			wait, logIt := down.Failed(w.opts.MaxBackoff)
			if logIt {
				w.opts.Logger.Warn("cannot reach the master for fetch tasks; retrying", "err", err, "in", wait,
					"failures", down.Failures())
			}
			pause = wait
		case down.Recovered():
			w.opts.Logger.Info("the master is back")
		}
		for _, t := range reply.Tasks {
			n--
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { free <- struct{}{} }()
				w.run(ctx, t, time.Duration(reply.TTLSeconds*float64(time.Second)))
			}()
		}
		for range n {
			free <- struct{}{}
		}
		if len(reply.Tasks) == 0 {
			backoff.Sleep(ctx, pause)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// run executes one leased task, renewing its lease, and reports it.
func (w *Worker) run(ctx context.Context, t LeasedTask, ttl time.Duration) {
	log := w.opts.Logger.With("task", t.ID, "job", t.JobID)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go w.heartbeat(runCtx, cancel, t.ID, ttl, log)
	var res Result
	sink, err := w.sink(runCtx, t)
	if err != nil {
		res = Result{Message: fmt.Sprintf("open destination: %v", err), Retry: true}
	} else {
		res = w.opts.Executor.Execute(runCtx, Task{ID: t.ID, URL: t.URL, Key: t.Key,
			Concurrency: t.Concurrency, AllowPrivateURLs: t.AllowPrivateURLs}, sink)
	}
	if ctx.Err() == nil && runCtx.Err() != nil {
		log.Info("fetch lease lost; result dropped")
		return
	}
	w.report(ctx, t.ID, res, log)
}

// heartbeat marks the task running at once (without delaying the
// download), then renews the lease every third of its TTL; a lost lease
// cancels the task.
func (w *Worker) heartbeat(ctx context.Context, cancel context.CancelFunc, id string, ttl time.Duration, log *slog.Logger) {
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	tick := time.NewTicker(ttl / 3)
	defer tick.Stop()
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
		err := renewTask(ctx, w.opts.Client, id, w.opts.Agent)
		if agent.IsLeaseLost(err) {
			cancel()
			return
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("renew fetch lease", "err", err)
		}
	}
}

// report sends the outcome, retrying until the master answers (with the
// pause and sparse warnings of Run). When ctx has ended (the agent stops)
// the task is handed back for a retry, with a short grace period.
func (w *Worker) report(ctx context.Context, id string, res Result, log *slog.Logger) {
	if ctx.Err() != nil {
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = finishTask(c, w.opts.Client, id, w.opts.Agent, Result{Message: "agent stopped", Retry: true})
		return
	}
	var down backoff.Retries
	for {
		err := finishTask(ctx, w.opts.Client, id, w.opts.Agent, res)
		if err == nil || agent.IsLeaseLost(err) || agent.IsNotFound(err) {
			if err != nil {
				log.Info("fetch result dropped", "err", err)
			}
			return
		}
		if ctx.Err() != nil {
			return
		}
		wait, logIt := down.Failed(w.opts.MaxBackoff)
		if logIt {
			log.Warn("cannot report the fetch task; retrying", "err", err, "in", wait, "failures", down.Failures())
		}
		backoff.Sleep(ctx, wait)
	}
}

// sink returns the (cached) sink of a task's destination.
func (w *Worker) sink(ctx context.Context, t LeasedTask) (fs.Sink, error) {
	key := sinkKey(t.Dest, t.Credentials)
	w.mu.Lock()
	s, ok := w.sinks[key]
	w.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := w.opts.Open(ctx, t.Dest, t.Credentials)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	w.sinks[key] = s
	w.mu.Unlock()
	return s, nil
}

// sinkKey identifies a destination and its credentials without keeping
// the credentials themselves.
func sinkKey(dest string, creds map[string]string) string {
	names := make([]string, 0, len(creds))
	for k := range creds {
		names = append(names, k)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, k := range names {
		fmt.Fprintf(h, "%q=%q\n", k, creds[k])
	}
	return dest + "\x00" + hex.EncodeToString(h.Sum(nil))
}
