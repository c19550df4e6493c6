package miniotest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestServer_CreateBucket(t *testing.T) {
	ctx := context.Background()
	s := Start(t)
	s.CreateBucket(t, "bkt")
	c := s.Client()
	data := []byte("hello minio")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("bkt"), Key: aws.String("k/v.txt"), Body: bytes.NewReader(data),
	}); err != nil {
		t.Fatalf("put: %v", err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k/v.txt")})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get = %q, %v; want %q", got, err, data)
	}
}

func TestStart_StopsOnCleanup(t *testing.T) {
	var endpoint string
	t.Run("server", func(t *testing.T) {
		s := Start(t)
		endpoint = s.Endpoint
		if s.AccessKey == "" || len(s.SecretKey) < 8 {
			t.Fatalf("credentials not set: access %q, secret length %d", s.AccessKey, len(s.SecretKey))
		}
	})
	resp, err := http.Get(endpoint + "/minio/health/live")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("server at %s still answers after its test ended", endpoint)
	}
}

func TestStart_DistinctServers(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Endpoint == b.Endpoint || a.AccessKey == b.AccessKey || a.Dir == b.Dir {
		t.Fatalf("servers share endpoint, key or dir: %s %s", a.Endpoint, b.Endpoint)
	}
	a.CreateBucket(t, "only-a")
	_, err := b.Client().HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String("only-a")})
	if err == nil {
		t.Fatal("bucket created on server a is visible on server b")
	}
}

func TestServer_Restart(t *testing.T) {
	ctx := context.Background()
	s := Start(t)
	s.CreateBucket(t, "bkt")
	data := []byte("kept across a crash")
	if _, err := s.Client().PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("bkt"), Key: aws.String("k"), Body: bytes.NewReader(data),
	}); err != nil {
		t.Fatalf("put: %v", err)
	}
	if err := s.Restart(); err == nil {
		t.Fatal("Restart of a running server succeeded")
	}
	endpoint := s.Endpoint
	s.Kill()
	if resp, err := http.Get(endpoint + "/minio/health/live"); err == nil {
		resp.Body.Close()
		t.Fatal("killed server still answers")
	}
	s.Kill() // a no-op now
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if s.Endpoint != endpoint {
		t.Fatalf("restarted at %s, want %s", s.Endpoint, endpoint)
	}
	out, err := s.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
	if err != nil {
		t.Fatalf("get after restart: %v", err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get after restart = %q, %v; want %q", got, err, data)
	}
}
