// Package web is Ferry's web console: HTML pages and Server-Sent Events
// served by the master under /ui/ (a Mount), built from embedded templates
// and assets (embed.FS, html/template, plain JavaScript; no build step and
// nothing loaded from elsewhere).
//
// The console holds no state of its own beyond sessions and a one-hour
// throughput history: every page reads, and every button acts, through the
// master's /api/v1 (agent.Client over an in-process transport) with the
// token the operator signed in with, so the API's routes, checks and
// authorization are the console's too. Sign-in exchanges the admin token
// or the read-only viewer token for a session cookie; every POST carries
// the session's CSRF token.
package web

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ferry-project/ferry/agent"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config configures a Console.
type Config struct {
	// AdminToken signs in operators; ViewerToken (optional) signs in
	// viewers, who see every page and change nothing. They are the
	// master's tokens: the console calls the API with them.
	AdminToken, ViewerToken string
	// Base is the path prefix a reverse proxy serves the master under
	// ("/ferry/"; default "/"): links, redirects and the cookie's path
	// start with it. The proxy strips it before passing requests on.
	Base string
	// Secure marks the session cookie Secure (set it when the master
	// serves TLS; a request with X-Forwarded-Proto: https sets it too).
	Secure bool
	// SessionTTL is how long a session lives (default 12h).
	SessionTTL time.Duration
	// LeaseTTL is the master's lease TTL: an agent not heard from for
	// longer is shown as lost (default 15s).
	LeaseTTL time.Duration
	// Sample is how often Run records the aggregate throughput (default 5s).
	Sample time.Duration
	Logger *slog.Logger
	Now    func() time.Time
}

// Console is the web console. Mount it on the master (Mount), and run Run
// beside the master for the Overview's throughput history.
type Console struct {
	cfg      Config
	tmpl     map[string]*template.Template
	static   http.Handler
	sessions *sessions
	history  *history

	apiMu sync.Mutex
	api   http.Handler // the master's mux, set by Mount
	mux   *http.ServeMux

	closing   chan struct{} // closed by Shutdown: live streams end
	closeOnce sync.Once

	latestMu sync.Mutex
	latest   map[string]any // the Overview's last sampled event, shared by every open Overview
}

// New makes a Console; the admin token is required, and a viewer token
// must differ from it.
func New(cfg Config) (*Console, error) {
	if cfg.AdminToken == "" {
		return nil, errors.New("new console: the admin token is required")
	}
	if cfg.ViewerToken == cfg.AdminToken {
		return nil, errors.New("new console: the viewer token must differ from the admin token")
	}
	if cfg.Base == "" {
		cfg.Base = "/"
	}
	if !strings.HasPrefix(cfg.Base, "/") || !strings.HasSuffix(cfg.Base, "/") {
		return nil, fmt.Errorf("new console: base %q must start and end with /", cfg.Base)
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 15 * time.Second
	}
	if cfg.Sample <= 0 {
		cfg.Sample = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	tmpl, err := parseTemplates(cfg.Base)
	if err != nil {
		return nil, fmt.Errorf("new console: %w", err)
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("new console: %w", err)
	}
	c := &Console{
		cfg: cfg, tmpl: tmpl,
		static:   http.StripPrefix("/ui/static/", http.FileServerFS(sub)),
		sessions: newSessions(cfg.SessionTTL, cfg.Now),
		history:  newHistory(time.Hour, cfg.Sample),
		closing:  make(chan struct{}),
	}
	c.mux = c.routes()
	return c, nil
}

// Mount registers the console on the master (it is an agent.Mount): /ui/
// and its pages, and / redirecting there. The master's mux becomes the
// handler the console's API client is served by.
func (c *Console) Mount(mux *http.ServeMux, _, _ func(http.Handler) http.Handler) {
	c.apiMu.Lock()
	c.api = mux
	c.apiMu.Unlock()
	mux.Handle("/ui/", http.HandlerFunc(c.serve))
	mux.Handle("GET /{$}", http.HandlerFunc(c.serve))
}

// serve answers on the connection's own writer: the master keeps every
// error of its API JSON (its writer rewrites other error answers), while
// the console's redirects and error pages are HTML for a browser.
func (c *Console) serve(w http.ResponseWriter, r *http.Request) {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		w = u.Unwrap()
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	if r.URL.Path == "/" {
		http.Redirect(w, r, c.cfg.Base+"ui/", http.StatusFound)
		return
	}
	c.mux.ServeHTTP(w, r)
}

// Shutdown ends every live stream (Server-Sent Events), so that the
// master's http.Server can shut down: register it with
// http.Server.RegisterOnShutdown. Pages keep being served.
func (c *Console) Shutdown() {
	c.closeOnce.Do(func() { close(c.closing) })
}

// client is an API client with the token of the session's role.
func (c *Console) client(token string) (*agent.Client, error) {
	c.apiMu.Lock()
	h := c.api
	c.apiMu.Unlock()
	if h == nil {
		return nil, errors.New("the console is not mounted on a master")
	}
	return agent.NewClient("http://master", token, agent.WithTransport(agent.InProcess(h)))
}

// Run records the aggregate throughput, objects and failures every
// Config.Sample for the Overview until ctx ends; it returns nil then. A
// sample that takes long (many jobs) stretches the interval to twenty
// times its duration, so sampling costs the master at most a twentieth of
// a core; every open Overview shares the last sample.
func (c *Console) Run(ctx context.Context) error {
	for {
		start := time.Now()
		c.sample(ctx)
		wait := max(c.cfg.Sample, 20*time.Since(start))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// sample records one point of the history and the Overview's event.
func (c *Console) sample(ctx context.Context) {
	cl, err := c.client(c.cfg.AdminToken)
	if err != nil {
		return
	}
	jobs, err := cl.Jobs(ctx)
	if err == nil {
		c.history.add(pointOf(c.cfg.Now(), jobs))
		var agents []agent.AgentView
		if agents, err = cl.Agents(ctx); err == nil {
			ev := overviewEvent(c.cfg.Now(), c.overviewData(jobs, agents))
			c.latestMu.Lock()
			c.latest = ev
			c.latestMu.Unlock()
		}
	}
	if err != nil && ctx.Err() == nil {
		c.cfg.Logger.Warn("console: sample", "err", err)
	}
}

// latestOverview is the last sampled Overview event, or nil before the
// first sample.
func (c *Console) latestOverview() map[string]any {
	c.latestMu.Lock()
	defer c.latestMu.Unlock()
	return c.latest
}

// roleOf is the role a token signs in as (constant-time compares), or "".
func (c *Console) roleOf(token string) string {
	switch {
	case token == "":
		return ""
	case subtle.ConstantTimeCompare([]byte(token), []byte(c.cfg.AdminToken)) == 1:
		return roleAdmin
	case c.cfg.ViewerToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(c.cfg.ViewerToken)) == 1:
		return roleViewer
	}
	return ""
}
