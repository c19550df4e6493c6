package fetch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/ferry-project/ferry/catalog"
)

// CallbackStore is the part of the master catalog the Dispatcher uses;
// *catalog.FetchQueue implements it.
type CallbackStore interface {
	DueCallbacks(ctx context.Context, now time.Time, n int, hold time.Duration) ([]catalog.FetchTask, error)
	MarkCallback(ctx context.Context, id string, a catalog.CallbackAttempt, now time.Time) error
	NextCallback(ctx context.Context) (time.Time, bool, error)
}

var _ CallbackStore = (*catalog.FetchQueue)(nil)

// DispatcherOptions tune a Dispatcher; zero values take the defaults.
type DispatcherOptions struct {
	// Jobs finds a task's job, whose AllowPrivateCallbacks decides the
	// policy its callback is sent under. With no Jobs, or for a job that
	// is gone, callbacks to private and special-purpose addresses are
	// refused.
	Jobs JobLookup
	// Timeout bounds one delivery, redirects included (default 10s).
	Timeout time.Duration
	// Concurrency is how many callbacks are delivered at once (default 8).
	Concurrency int
	// MaxAttempts is how many deliveries are tried before giving up
	// (default 20).
	MaxAttempts int
	// BackoffMin and BackoffMax bound the wait after a failed delivery:
	// BackoffMin doubled per attempt, at most BackoffMax, ±20% jitter
	// (defaults 2s and 5min: 20 attempts span about an hour).
	BackoffMin, BackoffMax time.Duration
	// Hold is how long a claimed callback stays invisible to other rounds
	// while being delivered; must exceed the client's timeout (default 1min).
	Hold time.Duration
	// Poll is the longest sleep between looks at the catalog (default 1s).
	Poll   time.Duration
	Logger *slog.Logger
	Now    func() time.Time
}

// Dispatcher delivers the callbacks of finished fetch tasks. The schedule
// (state, attempts, next attempt) lives in the catalog, so pending
// callbacks survive a master restart. Callbacks go through the URL Policy
// of their job (AllowPrivate = the job's AllowPrivateCallbacks): the URL
// is checked before sending, the address when dialed (no proxy is used)
// and every redirect target; a refused callback fails at once, without
// retries.
type Dispatcher struct {
	store   CallbackStore
	opts    DispatcherOptions
	wake    chan struct{}
	clients map[bool]*http.Client // by Policy.AllowPrivate
}

// NewDispatcher returns a Dispatcher over store.
func NewDispatcher(store CallbackStore, opts DispatcherOptions) *Dispatcher {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 20
	}
	if opts.BackoffMin <= 0 {
		opts.BackoffMin = 2 * time.Second
	}
	if opts.BackoffMax < opts.BackoffMin {
		opts.BackoffMax = max(5*time.Minute, opts.BackoffMin)
	}
	if opts.Hold <= 0 {
		opts.Hold = time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	clients := map[bool]*http.Client{}
	for _, private := range []bool{false, true} {
		clients[private] = callbackClient(Policy{AllowPrivate: private}, opts.Timeout)
	}
	return &Dispatcher{store: store, opts: opts, wake: make(chan struct{}, 1), clients: clients}
}

// callbackClient is the HTTP client of callbacks under p: no proxy (the
// dialed address must be the receiver's), p's dialer and redirect check.
func callbackClient(p Policy, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         p.dialer().DialContext,
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	return &http.Client{Transport: tr, Timeout: timeout, CheckRedirect: p.CheckRedirect}
}

// Notify tells the dispatcher a callback may be due now (a task finished).
func (d *Dispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers due callbacks until ctx ends; it returns ctx's error.
// Catalog errors are logged and retried after Poll.
func (d *Dispatcher) Run(ctx context.Context) error {
	for {
		if _, err := d.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			d.opts.Logger.Error("deliver fetch callbacks", "err", err)
		}
		wait := d.opts.Poll
		if at, ok, err := d.store.NextCallback(ctx); err == nil && ok {
			wait = min(wait, max(at.Sub(d.opts.Now()), time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-d.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// DeliverDue delivers every callback due now, Concurrency at a time, and
// returns how many it tried.
func (d *Dispatcher) DeliverDue(ctx context.Context) (int, error) {
	tried := 0
	for ctx.Err() == nil {
		due, err := d.store.DueCallbacks(ctx, d.opts.Now(), d.opts.Concurrency, d.opts.Hold)
		if err != nil {
			return tried, err
		}
		var wg sync.WaitGroup
		errs := make([]error, len(due))
		for i, t := range due {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = d.deliver(ctx, t)
			}()
		}
		wg.Wait()
		tried += len(due)
		if err := errors.Join(errs...); err != nil {
			return tried, err
		}
		if len(due) < d.opts.Concurrency {
			return tried, nil
		}
	}
	return tried, ctx.Err()
}

// deliver POSTs one task's callback under its job's policy and records
// the attempt.
func (d *Dispatcher) deliver(ctx context.Context, t catalog.FetchTask) error {
	target := t.CallbackURL()
	err := d.send(ctx, t, target)
	if ctx.Err() != nil {
		return nil // claimed: retried once the hold passes
	}
	now := d.opts.Now()
	a := catalog.CallbackAttempt{Delivered: err == nil}
	if err != nil {
		a.Error = err.Error()
		if n := t.CallbackAttempts + 1; n < d.opts.MaxAttempts && target != "" && !errors.Is(err, ErrRefused) {
			a.Next = now.Add(d.backoff(n))
		}
		d.opts.Logger.Info("fetch callback failed", "task", t.ID, "attempt", t.CallbackAttempts+1,
			"next", a.Next, "err", a.Error)
	}
	if err := d.store.MarkCallback(ctx, t.ID, a, now); err != nil {
		return fmt.Errorf("record callback of %s: %w", t.ID, err)
	}
	return nil
}

// send delivers t's callback to target under the policy of t's job.
// Errors wrapping ErrRefused are final.
func (d *Dispatcher) send(ctx context.Context, t catalog.FetchTask, target string) error {
	if target == "" {
		return errors.New("no callback URL for the task's state")
	}
	p, err := d.policy(ctx, t.JobID)
	if err != nil {
		return err
	}
	if _, err := p.CheckURL(target); err != nil {
		return fmt.Errorf("callback to %s: %w", redact(target), err)
	}
	return d.post(ctx, d.clients[p.AllowPrivate], target, Payload(t))
}

// policy is the callback policy of the job jobID: private targets only
// when the job allows them; a job that is gone (or no Jobs) allows none.
// Other lookup errors are returned, and the delivery retried.
func (d *Dispatcher) policy(ctx context.Context, jobID string) (Policy, error) {
	if d.opts.Jobs == nil {
		return Policy{}, nil
	}
	job, err := d.opts.Jobs.FetchJob(ctx, jobID)
	switch {
	case errors.Is(err, ErrUnknownJob):
		return Policy{}, nil
	case err != nil:
		return Policy{}, fmt.Errorf("look up job of callback: %w", err)
	}
	return Policy{AllowPrivate: job.AllowPrivateCallbacks}, nil
}

// backoff is the wait after the n-th failed delivery.
func (d *Dispatcher) backoff(n int) time.Duration {
	b := d.opts.BackoffMin
	for i := 1; i < n && b < d.opts.BackoffMax; i++ {
		b *= 2
	}
	b = min(b, d.opts.BackoffMax)
	return b*4/5 + rand.N(b*2/5+1)
}

// Payload is the callback body for a finished task: SuccessCallback when
// done, FailureCallback otherwise.
func Payload(t catalog.FetchTask) any {
	if t.State == catalog.FetchDone {
		return SuccessCallback{Code: 0, TaskID: t.ID, ETag: t.ETag, Key: t.Key, SHA1: t.SHA1, Size: t.Size}
	}
	return FailureCallback{Code: 1, TaskID: t.ID, Message: t.LastError, Resource: t.URL}
}

// post sends body as JSON to target with c; any 2xx answer is a delivery.
func (d *Dispatcher) post(ctx context.Context, c *http.Client, target string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode callback: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("callback to %s: %w", redact(target), err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ferry-fetch")
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("callback to %s: %w", redact(target), err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("callback to %s: receiver answered %s", redact(target), resp.Status)
	}
	return nil
}
