package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// ErrSourceNotFound: no saved source has the given name.
var ErrSourceNotFound = errors.New("source not found")

// schemaSourcesV9 holds the master's saved sources: named connections
// whose secrets (environment variables such as AWS_SECRET_ACCESS_KEY) are
// sealed like job credentials.
const schemaSourcesV9 = `
CREATE TABLE sources (
	name       TEXT    NOT NULL PRIMARY KEY,
	uri        TEXT    NOT NULL,
	endpoint   TEXT    NOT NULL DEFAULT '',
	region     TEXT    NOT NULL DEFAULT '',
	path_style INTEGER NOT NULL DEFAULT 0,
	secrets    TEXT    NOT NULL DEFAULT '{}',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) WITHOUT ROWID;
`

// Source is one saved source. Secrets is set only by SourceSecrets;
// SecretNames, the names of its secrets, always.
type Source struct {
	Name, URI, Endpoint, Region string
	PathStyle                   bool
	Secrets                     map[string]string
	SecretNames                 []string
	CreatedAt, UpdatedAt        time.Time
}

// PutSource saves s under its name, replacing a source of that name. With
// keepSecrets, a replaced source keeps its stored secrets (a form that
// leaves them blank changes everything else); otherwise s.Secrets replace
// them.
func (m *MasterDB) PutSource(ctx context.Context, s Source, keepSecrets bool, now time.Time) error {
	return m.tx(ctx, func(tx *sql.Tx) error {
		var stored string
		err := tx.QueryRowContext(ctx, `SELECT secrets FROM sources WHERE name = ?`, s.Name).Scan(&stored)
		exists := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read source %s: %w", s.Name, err)
		}
		if !keepSecrets || !exists {
			secrets := s.Secrets
			if secrets == nil {
				secrets = map[string]string{}
			}
			plain, err := json.Marshal(secrets)
			if err != nil {
				return fmt.Errorf("encode source %s: %w", s.Name, err)
			}
			if stored, err = m.st.sealValue(plain); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sources (name, uri, endpoint, region, path_style, secrets, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET uri = excluded.uri, endpoint = excluded.endpoint, region = excluded.region,
				path_style = excluded.path_style, secrets = excluded.secrets, updated_at = excluded.updated_at`,
			s.Name, s.URI, s.Endpoint, s.Region, s.PathStyle, stored, nanos(now), nanos(now))
		if err != nil {
			return fmt.Errorf("save source %s: %w", s.Name, err)
		}
		return nil
	})
}

// Sources lists the saved sources by name, with their secrets' names only.
func (m *MasterDB) Sources(ctx context.Context) ([]Source, error) {
	r, err := m.reader()
	if err != nil {
		return nil, err
	}
	srcs, err := collect(ctx, r, "list sources", m.scanSource,
		`SELECT name, uri, endpoint, region, path_style, secrets, created_at, updated_at FROM sources ORDER BY name`)
	for i := range srcs {
		srcs[i].Secrets = nil
	}
	return srcs, err
}

// SourceSecrets returns one saved source with its secrets; an unknown name
// wraps ErrSourceNotFound.
func (m *MasterDB) SourceSecrets(ctx context.Context, name string) (Source, error) {
	r, err := m.reader()
	if err != nil {
		return Source{}, err
	}
	srcs, err := collect(ctx, r, "read source "+name, m.scanSource,
		`SELECT name, uri, endpoint, region, path_style, secrets, created_at, updated_at FROM sources WHERE name = ?`, name)
	if err != nil {
		return Source{}, err
	}
	if len(srcs) == 0 {
		return Source{}, fmt.Errorf("source %q: %w", name, ErrSourceNotFound)
	}
	return srcs[0], nil
}

// DeleteSource removes a saved source; an unknown name wraps
// ErrSourceNotFound. Jobs created from it keep their own copy.
func (m *MasterDB) DeleteSource(ctx context.Context, name string) error {
	return m.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sources WHERE name = ?`, name)
		if err != nil {
			return fmt.Errorf("delete source %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("source %q: %w", name, ErrSourceNotFound)
		}
		return nil
	})
}

func (m *MasterDB) scanSource(sc scanner) (Source, error) {
	var s Source
	var stored string
	var created, updated int64
	if err := sc.Scan(&s.Name, &s.URI, &s.Endpoint, &s.Region, &s.PathStyle, &stored, &created, &updated); err != nil {
		return s, err
	}
	s.CreatedAt, s.UpdatedAt = fromNanos(created), fromNanos(updated)
	plain, err := m.st.openValue(stored)
	if err != nil {
		return s, fmt.Errorf("source %s: secrets: %w", s.Name, err)
	}
	s.Secrets = map[string]string{}
	if err := json.Unmarshal(plain, &s.Secrets); err != nil {
		return s, fmt.Errorf("source %s: decode secrets: %w", s.Name, err)
	}
	s.SecretNames = slices.Sorted(maps.Keys(s.Secrets))
	return s, nil
}
