package agent

import (
	"context"
	"net/http"
	"time"
)

// HealthHandler serves a process's health endpoints, without a token:
// GET /healthz answers 200 {"status": "ok"} while the process serves at
// all (a liveness probe), GET /readyz 200 {"status": "ready"} when ready
// returns nil and otherwise 503 {"error": why, "code": …} (a readiness
// probe). ready gets the request's context, bounded to 5 seconds. The
// master serves both on its API port; an agent serves them on
// --health-listen, with Agent.Ready.
func HealthHandler(ready func(ctx context.Context) error) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", serveLive)
	mux.HandleFunc("GET /readyz", serveReady(ready))
	return mux
}

func serveLive(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func serveReady(ready func(ctx context.Context) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			writeError(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}
}
