package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ferry-project/ferry/agent"
)

// healthServer serves an agent's /healthz and /readyz (--health-listen).
type healthServer struct{ srv *http.Server }

// serveHealth starts serving the health endpoints on addr with ready as
// the readiness check; an empty addr serves nothing.
func serveHealth(addr string, ready func(context.Context) error) (*healthServer, error) {
	if addr == "" {
		return &healthServer{}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, usageErr("--health-listen %s: %v", addr, err)
	}
	srv := &http.Server{Handler: agent.HealthHandler(ready), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Warn("health endpoints stopped", "err", err)
		}
	}()
	slog.Info(fmt.Sprintf("ferry: health endpoints on http://%s (/healthz, /readyz)", ln.Addr()))
	return &healthServer{srv: srv}, nil
}

// close stops serving.
func (h *healthServer) close() {
	if h.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = h.srv.Shutdown(ctx)
}
