package s3

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	md5simd "github.com/minio/md5-simd"

	"github.com/ferry-project/ferry/fs"
)

// Store is one bucket and key prefix of an S3-compatible store, read as an
// fs.Tree and written as a fs.Sink. Keys given to and returned by its
// methods are relative to the prefix. It is safe for concurrent use.
//
// The SDK's own retries are off (aws.NopRetryer): every method makes one
// attempt and returns the error, and the transfer engine's retry wrapper,
// which owns backoff and the retry budget, decides with IsPermanent whether
// to try again. The SDK's default CRC checksums are also off (sent and
// validated only when an operation requires them), since many
// S3-compatible stores reject or mangle them; integrity is checked with
// MD5 ETags instead (see Checksummer). The data requests go out through
// wire, outside the SDK's middleware, signed by the SDK's signer.
type Store struct {
	client *s3.Client
	wire   *wire // PutObject, UploadPart and ranged GetObject
	bucket string
	prefix string // "" or ending in '/'
	// pageSize is the page size of listings (keys and parts); tests lower
	// it to exercise pagination.
	pageSize int32
	md5      md5simd.Server // nil: crypto/md5 (Config.MD5)
}

var (
	_ fs.Tree        = (*Store)(nil)
	_ fs.EntryOpener = (*Store)(nil)
	_ fs.Sink        = (*Store)(nil)
	_ fs.Checksummer = (*Store)(nil)
)

// New applies c's preset (ApplyPreset), checks it and builds the client. It
// does not touch the network; Check does.
func New(ctx context.Context, c Config) (*Store, error) {
	c, err := ApplyPreset(c)
	if err != nil {
		return nil, err
	}
	opts := s3.Options{
		Region:                     c.Region,
		UsePathStyle:               c.PathStyle,
		Retryer:                    aws.NopRetryer{},
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		Credentials:                aws.AnonymousCredentials{},
	}
	if c.AccessKey != "" {
		opts.Credentials = credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey, c.SessionToken)
	}
	if c.Endpoint != "" {
		opts.BaseEndpoint = aws.String(c.Endpoint)
	}
	if c.HTTPClient != nil {
		opts.HTTPClient = c.HTTPClient
	}
	client := s3.New(opts)
	w, err := newWire(ctx, client.Options(), c.Bucket)
	if err != nil {
		return nil, err
	}
	return &Store{client: client, wire: w, bucket: c.Bucket, prefix: c.Prefix, pageSize: pageSize, md5: c.MD5}, nil
}

// Bucket returns the store's bucket.
func (s *Store) Bucket() string { return s.bucket }

// Prefix returns the store's key prefix ("" or ending in '/').
func (s *Store) Prefix() string { return s.prefix }

// Check verifies that the bucket exists and the credentials may use it
// (HeadBucket). A missing bucket gives "bucket X does not exist" (wrapping
// fs.ErrNotExist); refused credentials give "access denied (check
// credentials)" (wrapping fs.ErrPermission).
func (s *Store) Check(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)})
	switch {
	case err == nil:
		return nil
	case httpStatus(err) == 404:
		return fmt.Errorf("check bucket: bucket %s does not exist: %w", s.bucket, fs.ErrNotExist)
	case httpStatus(err) == 403 || httpStatus(err) == 401:
		return fmt.Errorf("check bucket %s: access denied (check credentials): %w", s.bucket, fs.ErrPermission)
	case httpStatus(err) == 301:
		return fmt.Errorf("check bucket %s: the bucket is in another region than %q (set the region or endpoint): %w",
			s.bucket, s.client.Options().Region, err)
	default:
		return fmt.Errorf("check bucket %s: %w", s.bucket, err)
	}
}

// full turns a prefix-relative key into a bucket key.
func (s *Store) full(key string) string { return s.prefix + key }
