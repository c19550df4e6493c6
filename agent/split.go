package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
)

// errProbeFull stops a probe walk that saw enough paths.
var errProbeFull = errors.New("probe full")

// splitKey walks at most probe objects of [from, end) and returns a key that
// cuts what it saw in half, or ok=false when fewer than minRemaining paths
// remain (not worth a split). Only the paths of the probe are held.
func splitKey(ctx context.Context, t fs.Tree, from, end string, probe, minRemaining int) (string, bool, error) {
	var paths []string
	err := t.Walk(ctx, fs.Range{Start: from, End: end}, func(e fs.Entry) error {
		paths = append(paths, e.ObjectKey())
		if len(paths) >= probe {
			return errProbeFull
		}
		return nil
	})
	if err != nil && !errors.Is(err, errProbeFull) {
		return "", false, fmt.Errorf("probe range: %w", err)
	}
	if len(paths) < max(minRemaining, 2) {
		return "", false, nil
	}
	return paths[len(paths)/2], true, nil
}

// trySplit looks for a leased range with much work left and splits it past
// its cursor so an idle agent can take the tail. It reports whether a new
// range was made. Only one split runs at a time; a range probed recently
// and found too small is left alone for a while.
func (m *Master) trySplit(ctx context.Context) bool {
	if !m.splitMu.TryLock() {
		return false
	}
	defer m.splitMu.Unlock()
	cands, err := m.db.SplitCandidates(ctx, 8)
	if err != nil {
		m.log.Warn("find ranges to split", "err", err)
		return false
	}
	now := m.now()
	for k, until := range m.noSplit {
		if now.After(until) {
			delete(m.noSplit, k)
		}
	}
	for _, r := range cands {
		k := rangeKey{r.JobID, r.ID}
		if until, ok := m.noSplit[k]; ok && now.Before(until) {
			continue
		}
		key, ok, err := m.probe(ctx, r)
		if err != nil {
			m.log.Warn("probe range for a split", "job", r.JobID, "range", r.ID, "err", err)
			m.noSplit[k] = now.Add(m.cfg.LeaseTTL)
			continue
		}
		if !ok {
			m.noSplit[k] = now.Add(2 * m.cfg.Heartbeat)
			continue
		}
		nr, err := m.db.SplitRange(ctx, r.JobID, r.ID, key, now)
		if err != nil {
			if !errors.Is(err, catalog.ErrNoSplit) {
				m.log.Warn("split range", "job", r.JobID, "range", r.ID, "err", err)
			}
			continue
		}
		m.log.Info("split range", "job", r.JobID, "range", r.ID, "at", key, "new_range", nr.ID)
		return true
	}
	return false
}

// rangeKey names one range of one job.
type rangeKey struct {
	job string
	id  int
}

// probe finds a split key for r from its last reported cursor.
func (m *Master) probe(ctx context.Context, r catalog.Range) (string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if r.Listed {
		paths, err := m.db.ListedPaths(ctx, r.JobID, r.ID, max(r.Cursor, m.frontier(rangeKey{r.JobID, r.ID})), m.cfg.SplitProbe)
		if err != nil || len(paths) < max(m.cfg.SplitMin, 2) {
			return "", false, err
		}
		return paths[len(paths)/2], true, nil
	}
	t, err := m.sourceTree(ctx, r.JobID)
	if err != nil {
		return "", false, err
	}
	from := r.Start
	if after := max(r.Cursor, m.frontier(rangeKey{r.JobID, r.ID})); after != "" {
		from = after + "\x00"
	}
	return splitKey(ctx, t, from, r.End, m.cfg.SplitProbe, m.cfg.SplitMin)
}

// setFrontier remembers how far a range's holder has walked (the cursor
// lags behind it by every object in flight); splits cut past it, so the
// holder rarely copies what the new range's agent copies too. It lives in
// memory only: after a restart splits fall back to the cursor.
func (m *Master) setFrontier(k rangeKey, walked string, ended bool) {
	m.frontMu.Lock()
	defer m.frontMu.Unlock()
	switch {
	case ended:
		delete(m.frontiers, k)
	case walked > m.frontiers[k]:
		m.frontiers[k] = walked
	}
}

// frontier is the last walk position reported for a range ("" unknown).
func (m *Master) frontier(k rangeKey) string {
	m.frontMu.Lock()
	defer m.frontMu.Unlock()
	return m.frontiers[k]
}
