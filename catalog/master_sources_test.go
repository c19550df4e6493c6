package catalog

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSavedSources(t *testing.T) {
	ctx := context.Background()
	k, err := NewSecretKey()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.db")
	m, err := OpenMaster(ctx, path, nil, WithSecretKey(k))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	now := time.Now()
	s := Source{Name: "camera", URI: "s3://cams/2024", Endpoint: "http://minio:9000", Region: "us-east-1", PathStyle: true,
		Secrets: map[string]string{"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "very-secret"}}
	if err := m.PutSource(ctx, s, true, now); err != nil {
		t.Fatal(err)
	}
	list, err := m.Sources(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("sources: %v %v", list, err)
	}
	if got := list[0]; got.Secrets != nil || strings.Join(got.SecretNames, ",") != "AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY" ||
		got.URI != s.URI || got.Endpoint != s.Endpoint || !got.PathStyle {
		t.Errorf("listed %+v", got)
	}
	// The secrets are sealed at rest.
	var stored string
	if err := m.st.r.QueryRowContext(ctx, `SELECT secrets FROM sources`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !isSealed(stored) || strings.Contains(stored, "very-secret") {
		t.Errorf("stored secrets %q", stored)
	}
	// Replaced with keepSecrets, the secrets stay; without, they are replaced.
	s.URI, s.Secrets = "s3://cams/2025", nil
	if err := m.PutSource(ctx, s, true, now); err != nil {
		t.Fatal(err)
	}
	got, err := m.SourceSecrets(ctx, "camera")
	if err != nil || got.URI != "s3://cams/2025" || got.Secrets["AWS_SECRET_ACCESS_KEY"] != "very-secret" {
		t.Errorf("kept: %+v %v", got, err)
	}
	s.Secrets = map[string]string{"AWS_SECRET_ACCESS_KEY": "new"}
	if err := m.PutSource(ctx, s, false, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.SourceSecrets(ctx, "camera"); len(got.Secrets) != 1 || got.Secrets["AWS_SECRET_ACCESS_KEY"] != "new" {
		t.Errorf("replaced: %+v", got.Secrets)
	}
	if err := m.DeleteSource(ctx, "camera"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.SourceSecrets(ctx, "camera"); !errors.Is(err, ErrSourceNotFound) {
		t.Errorf("deleted source: %v", err)
	}
	if err := m.DeleteSource(ctx, "camera"); !errors.Is(err, ErrSourceNotFound) {
		t.Errorf("delete twice: %v", err)
	}
}
