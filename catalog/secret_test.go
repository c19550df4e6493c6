package catalog

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// Markers that must never appear in a catalog file in plain text.
const (
	credMarker  = "CRED-MARKER-7f3a9c"
	fetchMarker = "FETCH-PRIVATE-MARKER-b2d4e6"
)

// testKey returns a fixed key made of b.
func testKey(b byte) SecretKey {
	var k SecretKey
	for i := range k {
		k[i] = b
	}
	return k
}

// storeSecrets creates a job with credentials and a fetch job with a key
// pair carrying the markers.
func storeSecrets(t *testing.T, m *MasterDB) {
	t.Helper()
	ctx := context.Background()
	err := m.CreateJob(ctx, NewJob{ID: "j1", Source: "/src", Dest: "us3://b/p",
		Creds:  map[string]string{"AWS_SECRET_ACCESS_KEY": credMarker},
		Ranges: []RangeSpec{{"", "", nil}}}, t0)
	if err != nil {
		t.Fatalf("CreateJob: %v", err)
	}
	err = m.Fetch().CreateFetchJob(ctx, FetchJob{ID: "f1", Dest: "us3://b",
		Creds: map[string]string{"US3_PRIVATE_KEY": credMarker},
		Keys:  []FetchKey{{Public: "pub1", Private: fetchMarker}}}, t0)
	if err != nil {
		t.Fatalf("CreateFetchJob: %v", err)
	}
}

// checkSecrets reads the secrets back through m.
func checkSecrets(t *testing.T, m *MasterDB) {
	t.Helper()
	ctx := context.Background()
	creds, err := m.JobCreds(ctx, "j1")
	if err != nil || creds["AWS_SECRET_ACCESS_KEY"] != credMarker {
		t.Fatalf("JobCreds = %v, %v", creds, err)
	}
	fj, err := m.Fetch().FetchJob(ctx, "f1")
	if err != nil || !reflect.DeepEqual(fj.Keys, []FetchKey{{Public: "pub1", Private: fetchMarker}}) ||
		fj.Creds["US3_PRIVATE_KEY"] != credMarker {
		t.Fatalf("FetchJob = %+v, %v", fj, err)
	}
}

// assertNoPlainSecrets scans the catalog file and its -wal and -shm, as
// strings(1) would, for the markers.
func assertNoPlainSecrets(t *testing.T, path string) {
	t.Helper()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{credMarker, fetchMarker} {
			if bytes.Contains(b, []byte(m)) {
				t.Errorf("%s holds %q in plain text", filepath.Base(p), m)
			}
		}
	}
}

// assertMode checks the permission bits of path.
func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("mode of %s = %o, want %o", filepath.Base(path), got, want)
	}
}

func TestOpenMaster_FileModes(t *testing.T) {
	old := syscall.Umask(0) // the widest umask: modes must not depend on it
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "state", "master")
	path := filepath.Join(dir, "master.db")
	m, err := OpenMaster(context.Background(), path, hourly, WithSecretKeyFile(path+".key"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	storeSecrets(t, m)
	assertMode(t, dir, 0o700)
	assertMode(t, filepath.Dir(dir), 0o700)
	for _, p := range []string{path, path + "-wal", path + "-shm", path + ".lock", path + ".key"} {
		assertMode(t, p, 0o600)
	}
}

func TestOpen_NarrowsOldModes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cat.db")
	db := mustOpen(t, path)
	db.Close()
	for _, p := range []string{path, path + ".lock"} {
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db = mustOpen(t, path)
	defer db.Close()
	if err := db.SetMeta(context.Background(), "k", "v"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + ".lock"} {
		assertMode(t, p, 0o600)
	}
}

func TestOpenMaster_SecretsEncrypted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.db")
	m, err := OpenMaster(context.Background(), path, hourly, WithSecretKey(testKey(1)))
	if err != nil {
		t.Fatal(err)
	}
	storeSecrets(t, m)
	checkSecrets(t, m)
	assertNoPlainSecrets(t, path) // open: the rows are in the -wal
	m.Close()
	assertNoPlainSecrets(t, path) // closed: checkpointed into the file

	m, err = OpenMaster(context.Background(), path, hourly, WithSecretKey(testKey(1)))
	if err != nil {
		t.Fatal(err)
	}
	checkSecrets(t, m)
	m.Close()

	// Without the key the secrets can be neither read nor written.
	m, err = OpenMaster(context.Background(), path, hourly)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.JobCreds(context.Background(), "j1"); !errors.Is(err, ErrNoSecretKey) {
		t.Errorf("JobCreds without the key = %v, want ErrNoSecretKey", err)
	}
	err = m.CreateJob(context.Background(), NewJob{ID: "j2", Source: "/s", Dest: "/d",
		Creds: map[string]string{"K": "v"}, Ranges: []RangeSpec{{"", "", nil}}}, t0)
	if !errors.Is(err, ErrNoSecretKey) {
		t.Errorf("CreateJob without the key = %v, want ErrNoSecretKey", err)
	}
}

func TestOpenMaster_WrongKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "master.db")
	m, err := OpenMaster(ctx, path, hourly, WithSecretKey(testKey(1)))
	if err != nil {
		t.Fatal(err)
	}
	storeSecrets(t, m)
	m.Close()
	before := readFile(t, path)
	_, err = OpenMaster(ctx, path, hourly, WithSecretKey(testKey(2)))
	if !errors.Is(err, ErrSecretKey) {
		t.Fatalf("OpenMaster with another key = %v, want ErrSecretKey", err)
	}
	if !bytes.Equal(before, readFile(t, path)) {
		t.Error("a wrong key changed the catalog")
	}
	// A key file that is missing is not replaced by a new key when the
	// catalog's secrets are encrypted.
	keyFile := filepath.Join(t.TempDir(), "missing.key")
	if _, err := OpenMaster(ctx, path, hourly, WithSecretKeyFile(keyFile)); !errors.Is(err, ErrNoSecretKey) {
		t.Fatalf("OpenMaster with a missing key file = %v, want ErrNoSecretKey", err)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key file was created for a catalog with encrypted secrets: %v", err)
	}
	// A wrong key file too.
	if err := WriteSecretKeyFile(keyFile, testKey(3), path); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenMaster(ctx, path, hourly, WithSecretKeyFile(keyFile)); !errors.Is(err, ErrSecretKey) {
		t.Fatalf("OpenMaster with a wrong key file = %v, want ErrSecretKey", err)
	}
	if !bytes.Equal(before, readFile(t, path)) {
		t.Error("a wrong key changed the catalog")
	}
}

func TestOpenMaster_SecretKeyFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path, keyFile := filepath.Join(dir, "master.db"), filepath.Join(dir, "master.db.key")
	m, err := OpenMaster(ctx, path, hourly, WithSecretKeyFile(keyFile))
	if err != nil {
		t.Fatal(err)
	}
	storeSecrets(t, m)
	m.Close()
	k, err := ReadSecretKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	m, err = OpenMaster(ctx, path, hourly, WithSecretKey(k))
	if err != nil {
		t.Fatal(err)
	}
	checkSecrets(t, m)
	m.Close()
	if k2, err := ParseSecretKey(k.String()); err != nil || k2 != k {
		t.Errorf("ParseSecretKey(String()) = %v, %v", k2, err)
	}
	for _, bad := range []string{"", "abc", k.String() + "\n" + k.String()} {
		if _, err := ParseSecretKey(bad); err == nil {
			t.Errorf("ParseSecretKey(%q) succeeded", bad)
		}
	}
}

// TestOpenMaster_SealsPlainRows: a catalog of schema 7 with plain secrets
// is refused without a key (and left at schema 7), and encrypted by
// migration 8 with one, leaving no plain copy in the file or its WAL.
func TestOpenMaster_SealsPlainRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "master.db")
	old, err := openStore(ctx, path, allMigrations()[:7])
	if err != nil {
		t.Fatal(err)
	}
	storeSecrets(t, newMasterDB(old, hourly))
	old.close()
	b := readFile(t, path)
	if !bytes.Contains(b, []byte(credMarker)) || !bytes.Contains(b, []byte(fetchMarker)) {
		t.Fatal("the schema-7 catalog does not hold its secrets in plain text: the test proves nothing")
	}

	if _, err := OpenMaster(ctx, path, hourly); err == nil || !strings.Contains(err.Error(), "plain-text credentials") {
		t.Fatalf("OpenMaster of plain secrets without a key = %v, want a refusal", err)
	}
	if !bytes.Equal(b, readFile(t, path)) {
		t.Fatal("a refused upgrade changed the catalog")
	}
	m, err := OpenMaster(ctx, path, hourly, WithSecretKey(testKey(7)))
	if err != nil {
		t.Fatal(err)
	}
	checkSecrets(t, m)
	assertNoPlainSecrets(t, path)
	m.Close()
	assertNoPlainSecrets(t, path)
}
