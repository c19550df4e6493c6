package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/ferry-project/ferry/agent"
)

// sse streams events to the browser every interval until the request
// ends, the session ends, the console shuts down or next fails (the
// browser's EventSource reconnects by itself).
func (c *Console) sse(w http.ResponseWriter, r *http.Request, every time.Duration, next func() (string, any, error)) error {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		name, v, err := next()
		if err != nil {
			fmt.Fprintf(w, "event: failure\ndata: %s\n\n", mustJSON(map[string]string{"error": err.Error()}))
			_ = rc.Flush()
			return nil
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, mustJSON(v)); err != nil {
			return nil
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-c.closing:
			return nil
		case <-t.C:
		}
		if c.sessions.get(sessionID(r)) == nil {
			return nil // the session ended
		}
	}
}

// sessionID is the session ID of a request's cookie.
func sessionID(r *http.Request) string {
	ck, err := r.Cookie(cookieName)
	if err != nil {
		return ""
	}
	return ck.Value
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`{}`)
	}
	return b
}

// liveJob is a job's live fields, formatted, keyed as the page's
// data-live attributes name them.
func liveJob(j agent.JobView) map[string]any {
	return map[string]any{
		"state": j.State, "pct": progress(j), "rate_bytes": j.RateBytes,
		"text": map[string]string{
			"state": j.State, "pct": fmt.Sprintf("%.0f%%", progress(j)),
			"objects": humanCount(j.Objects), "copied": humanCount(j.Copied), "unchanged": humanCount(j.Unchanged),
			"failed": humanCount(j.Failed), "bytes": humanBytes(j.Bytes),
			"rate": humanBytes(int64(j.RateBytes)) + "/s", "rate_objects": fmt.Sprintf("%.1f/s", j.RateObjects),
			"eta":    eta(j.ETASeconds),
			"ranges": fmt.Sprintf("%d of %d done, %d leased, %d pending, %d failed", j.RangesDone, j.RangesTotal, j.RangesLeased, j.RangesPending, j.RangesFailed),
		},
	}
}

// jobEvents streams a job's live fields every second.
func (c *Console) jobEvents(w http.ResponseWriter, r *http.Request, s *session) error {
	cl, err := c.client(s.token)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	return c.sse(w, r, time.Second, func() (string, any, error) {
		j, err := cl.Job(r.Context(), id)
		if err != nil {
			return "", nil, err
		}
		return "job", liveJob(j), nil
	})
}

// overviewEvents streams the Overview's figures: the last sample, which
// every open Overview shares (read with the session's token only until
// the first sample).
func (c *Console) overviewEvents(w http.ResponseWriter, r *http.Request, s *session) error {
	cl, err := c.client(s.token)
	if err != nil {
		return err
	}
	return c.sse(w, r, min(c.cfg.Sample, 2*time.Second), func() (string, any, error) {
		if ev := c.latestOverview(); ev != nil {
			return "overview", ev, nil
		}
		jobs, err := cl.Jobs(r.Context())
		if err != nil {
			return "", nil, err
		}
		agents, err := cl.Agents(r.Context())
		if err != nil {
			return "", nil, err
		}
		return "overview", overviewEvent(c.cfg.Now(), c.overviewData(jobs, agents)), nil
	})
}

// overviewEvent is the Overview's figures as its stream sends them.
func overviewEvent(now time.Time, d map[string]any) map[string]any {
	return map[string]any{
		"t": now.Unix(), "rate_bytes": d["Rate"],
		"text": map[string]string{
			"jobs": fmt.Sprint(d["Jobs"]), "objects": humanCount(d["Objects"].(int64)), "bytes": humanBytes(d["Bytes"].(int64)),
			"rate": humanBytes(int64(d["Rate"].(float64))) + "/s", "online": fmt.Sprintf("%d of %d", d["Online"], d["Agents"]),
			"failed_hour": humanCount(d["FailedHour"].(int64)), "fetch_pending": humanCount(d["FetchPending"].(int64)),
			"fetch_inflight": humanCount(d["FetchInFlight"].(int64)),
		},
	}
}
