package catalog

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"

	"github.com/mattn/go-sqlite3"
)

// Option configures OpenMaster.
type Option func(*openOptions)

type openOptions struct {
	key     *SecretKey
	keyFile string
}

// WithSecretKey encrypts the catalog's secret columns with k.
func WithSecretKey(k SecretKey) Option {
	return func(o *openOptions) { o.key = &k }
}

// WithSecretKeyFile reads the key from the file at path (see
// ReadSecretKeyFile). When the file does not exist and the catalog holds no
// encrypted secrets yet (a new catalog, or one from a ferry before
// encryption), a new key is generated and written there, mode 0600; when
// the catalog's secrets are encrypted, a missing file is an error wrapping
// ErrNoSecretKey. WithSecretKey wins over it.
func WithSecretKeyFile(path string) Option {
	return func(o *openOptions) { o.keyFile = path }
}

// secretMigrations are the steps that concern secret columns.
func secretMigrations() []migration {
	return []migration{
		{8, "secrets: job credentials and fetch keys encrypted at rest", schemaSecretsV8},
	}
}

// schemaSecretsV8 encrypts the plain secrets an older ferry stored.
// ferry_seal is bound to the opening catalog's key (see sealFunc): without
// a key it leaves empty values alone and refuses real secrets, so a master
// catalog is only upgraded by a master that has its key.
const schemaSecretsV8 = sealPlainSQL

// sealPlainSQL seals every secret column value that is not sealed yet.
const sealPlainSQL = `
UPDATE jobs SET creds = ferry_seal(creds) WHERE creds NOT LIKE '` + sealedPrefix + `%';
UPDATE fetch_jobs SET creds = ferry_seal(creds), keys = ferry_seal(keys)
	WHERE creds NOT LIKE '` + sealedPrefix + `%' OR keys NOT LIKE '` + sealedPrefix + `%';
`

// sealFunc is the SQL function ferry_seal(value) of s's writer
// connection: value sealed with s's key (a sealed value stays as it is).
// Without a key it returns empty values ("", "{}", "[]") unchanged and
// fails on anything else.
func (s *store) sealFunc(v string) (string, error) {
	if isSealed(v) {
		return v, nil
	}
	if s.box != nil {
		return s.box.seal([]byte(v))
	}
	if v == "" || v == "{}" || v == "[]" {
		return v, nil
	}
	return "", fmt.Errorf("catalog %s holds plain-text credentials from an older ferry: "+
		"open it with ferry master and a secret key to encrypt them: %w", s.path, ErrNoSecretKey)
}

// writerConnector opens the writer connection through the SQLite driver
// with ferry_seal registered on it.
type writerConnector struct {
	dsn string
	drv *sqlite3.SQLiteDriver
}

var _ driver.Connector = writerConnector{}

func (c writerConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c writerConnector) Driver() driver.Driver                        { return c.drv }

// openWriter returns the writer pool for dsn, its connections carrying
// ferry_seal.
func (s *store) openWriter(dsn string) *sql.DB {
	drv := &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		return c.RegisterFunc("ferry_seal", s.sealFunc, false)
	}}
	return sql.OpenDB(writerConnector{dsn: dsn, drv: drv})
}

// useKey resolves the key of o, checks it against the catalog's key check
// and installs it. It runs before the writer connection opens and reads
// through a read-only one, so a wrong key fails with the catalog (and its
// -wal) untouched. Only a missing key file is created (see
// WithSecretKeyFile).
func (s *store) useKey(ctx context.Context, abs string, o openOptions) error {
	check, err := readKeyCheck(ctx, abs)
	if err != nil {
		return fmt.Errorf("open catalog %s: %w", s.path, err)
	}
	s.keyed = check != ""
	key, from := o.key, ""
	if key == nil && o.keyFile != "" {
		from = " in " + o.keyFile
		k, err := ReadSecretKeyFile(o.keyFile)
		switch {
		case err == nil:
		case errors.Is(err, os.ErrNotExist) && s.keyed:
			return fmt.Errorf("catalog %s: its secrets are encrypted and the key file %s is missing "+
				"(restore it from your backup, or give the key with FERRY_SECRET_KEY): %w", s.path, o.keyFile, ErrNoSecretKey)
		case errors.Is(err, os.ErrNotExist):
			if k, err = NewSecretKey(); err != nil {
				return err
			}
			if err := WriteSecretKeyFile(o.keyFile, k, s.path); err != nil {
				return err
			}
		default:
			return err
		}
		key = &k
	}
	if key == nil {
		return nil
	}
	box := &secretBox{key: *key}
	if s.keyed && !equalKeyCheck(box, check) {
		return fmt.Errorf("catalog %s: the secret key%s is not the one its secrets are encrypted with; "+
			"nothing was changed: %w", s.path, from, ErrSecretKey)
	}
	s.box = box
	return nil
}

// zeroDeleted, with a key, makes the writer overwrite deleted and replaced
// content (a plain value replaced by its sealed form) with zeros instead of
// leaving it in the file's free space.
func (s *store) zeroDeleted(ctx context.Context) error {
	if s.box == nil {
		return nil
	}
	if _, err := s.w.ExecContext(ctx, "PRAGMA secure_delete = ON"); err != nil {
		return fmt.Errorf("open catalog %s: %w", s.path, err)
	}
	return nil
}

// readKeyCheck returns the sealed key check of the catalog at abs ("" when
// it has none or is new), read through a read-only connection.
func readKeyCheck(ctx context.Context, abs string) (string, error) {
	w, err := sql.Open("sqlite3", dsn(abs, url.Values{"mode": {"ro"}, "_busy_timeout": {busyTimeoutMS}}))
	if err != nil {
		return "", fmt.Errorf("read secret key check: %w", err)
	}
	defer w.Close()
	var n int
	if err := w.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).Scan(&n); err != nil {
		return "", fmt.Errorf("read secret key check: %w", err)
	}
	if n == 0 {
		return "", nil
	}
	var v string
	err = w.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, keyCheckMeta).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read secret key check: %w", err)
	}
	return v, nil
}

// sealPlain, with a key, seals any secret still plain (written by a keyless
// open), records the key check, and checkpoints the WAL into the main file
// and truncates it, so no earlier plain frame stays in the -wal.
func (s *store) sealPlain(ctx context.Context) error {
	if s.box == nil {
		return nil
	}
	check, err := s.box.seal([]byte(keyCheckPlain))
	if err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("seal secrets of %s: %w", s.path, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, sealPlainSQL); err != nil {
		return fmt.Errorf("seal secrets of %s: %w", s.path, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING`,
		keyCheckMeta, check); err != nil {
		return fmt.Errorf("seal secrets of %s: %w", s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("seal secrets of %s: %w", s.path, err)
	}
	s.keyed = true
	if _, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("seal secrets of %s: checkpoint: %w", s.path, err)
	}
	return nil
}
