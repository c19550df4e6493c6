package catalog

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/nacl/secretbox"
)

// Errors of secret handling; test with errors.Is.
var (
	// ErrSecretKey: the key given does not open the catalog's secrets.
	ErrSecretKey = errors.New("wrong secret key")
	// ErrNoSecretKey: the catalog's secrets are encrypted and no key was
	// given (or its key file is missing).
	ErrNoSecretKey = errors.New("no secret key")
)

// SecretKey is the 32-byte key that encrypts a catalog's secret columns
// (job credentials, fetch key pairs) with NaCl secretbox (XSalsa20 and
// Poly1305): each value gets a fresh random nonce, and a value that was
// changed, or sealed with another key, fails to open instead of decoding
// to garbage.
type SecretKey [32]byte

// NewSecretKey returns a random key.
func NewSecretKey() (SecretKey, error) {
	var k SecretKey
	if _, err := io.ReadFull(rand.Reader, k[:]); err != nil {
		return k, fmt.Errorf("generate secret key: %w", err)
	}
	return k, nil
}

// String is the key's text form: standard base64 of its 32 bytes, what
// FERRY_SECRET_KEY and key files hold.
func (k SecretKey) String() string { return base64.StdEncoding.EncodeToString(k[:]) }

// ParseSecretKey reads a key in its text form. Blank lines and lines that
// start with '#' are ignored, so a key file may carry comments.
func ParseSecretKey(s string) (SecretKey, error) {
	var k SecretKey
	var text string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if text != "" {
			return k, errors.New("parse secret key: more than one key")
		}
		text = line
	}
	b, err := base64.StdEncoding.DecodeString(text)
	if err != nil || len(b) != len(k) {
		return k, errors.New("parse secret key: want 32 bytes in base64 (44 characters)")
	}
	copy(k[:], b)
	return k, nil
}

// ReadSecretKeyFile reads the key file at path; a missing file gives an
// error wrapping os.ErrNotExist.
func ReadSecretKeyFile(path string) (SecretKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return SecretKey{}, fmt.Errorf("read secret key file: %w", err)
	}
	k, err := ParseSecretKey(string(b))
	if err != nil {
		return SecretKey{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// WriteSecretKeyFile writes k to a new file at path, mode 0600, with a
// comment that says what it is for. An existing file is never replaced:
// that gives an error wrapping os.ErrExist.
func WriteSecretKeyFile(path string, k SecretKey, catalogPath string) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, privateFileMode)
	if err != nil {
		return fmt.Errorf("write secret key file: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write secret key file: %w", cerr)
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	if err := f.Chmod(privateFileMode); err != nil {
		return fmt.Errorf("write secret key file: %w", err)
	}
	body := fmt.Sprintf("# Ferry secret key of %s: it encrypts the job credentials and fetch\n"+
		"# keys stored there. Back it up apart from the database: without it they\n"+
		"# cannot be read; with the database, anyone who has it can read them.\n%s\n", catalogPath, k)
	if _, err := f.WriteString(body); err != nil {
		return fmt.Errorf("write secret key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write secret key file: %w", err)
	}
	return nil
}

// sealedPrefix starts every encrypted column value; plain values (from a
// ferry before encryption, or a catalog opened without a key) are JSON and
// never start with it.
const sealedPrefix = "sealed1:"

// keyCheckMeta is the meta key of a sealed known text: it tells at open
// whether a key is the catalog's, before anything is written.
const (
	keyCheckMeta  = "secret_key_check"
	keyCheckPlain = "ferry secret key check"
)

// secretBox seals and opens column values with one key.
type secretBox struct {
	key [32]byte
}

// seal encrypts plain into its stored text form.
func (b *secretBox) seal(plain []byte) (string, error) {
	var nonce [24]byte
	if _, err := io.ReadFull(rand.Reader, nonce[:]); err != nil {
		return "", fmt.Errorf("seal secret: %w", err)
	}
	out := secretbox.Seal(nonce[:], plain, &nonce, &b.key)
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// open decrypts a value sealed with seal; a value of another key or a
// changed one gives an error wrapping ErrSecretKey.
func (b *secretBox) open(stored string) ([]byte, error) {
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(stored, sealedPrefix))
	if err != nil || len(raw) < 24+secretbox.Overhead {
		return nil, errors.New("open secret: malformed sealed value")
	}
	var nonce [24]byte
	copy(nonce[:], raw)
	plain, ok := secretbox.Open(nil, raw[24:], &nonce, &b.key)
	if !ok {
		return nil, fmt.Errorf("open secret: %w", ErrSecretKey)
	}
	return plain, nil
}

// isSealed reports whether a stored value is encrypted.
func isSealed(stored string) bool { return strings.HasPrefix(stored, sealedPrefix) }

// sealValue is what a secret column stores for plain: sealed when the
// catalog has a key; as is otherwise (a catalog opened without a key never
// holds sealed values, see sealColumn's callers).
func (s *store) sealValue(plain []byte) (string, error) {
	if s.box == nil {
		if s.keyed {
			return "", fmt.Errorf("catalog %s: its secrets are encrypted: %w", s.path, ErrNoSecretKey)
		}
		return string(plain), nil
	}
	return s.box.seal(plain)
}

// openValue returns the plain bytes of a stored secret column value.
func (s *store) openValue(stored string) ([]byte, error) {
	if !isSealed(stored) {
		return []byte(stored), nil
	}
	if s.box == nil {
		return nil, fmt.Errorf("catalog %s: its secrets are encrypted: %w", s.path, ErrNoSecretKey)
	}
	b, err := s.box.open(stored)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", s.path, err)
	}
	return b, nil
}

// equalKeyCheck reports whether a sealed check value opens with box to the
// known text.
func equalKeyCheck(box *secretBox, stored string) bool {
	b, err := box.open(stored)
	return err == nil && bytes.Equal(b, []byte(keyCheckPlain))
}
