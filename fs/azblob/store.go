package azblob

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
	md5simd "github.com/minio/md5-simd"

	"github.com/ferry-project/ferry/fs"
)

// pageSize is how many names one listing request asks for (the service's
// maximum is 5000; 1000 keeps one page's memory small).
const pageSize = 1000

// Store is an account, or one container and key prefix, of Azure Blob
// Storage, read as an fs.Tree and written as a fs.Sink. Keys given to and
// returned by its methods are relative to the prefix; for a whole account
// they start with the container ("container/key"). It is safe for
// concurrent use.
//
// The SDK's own retries are off: every method makes one attempt and returns
// the error, and the engine's retry wrapper, which owns backoff and the
// retry budget, decides with IsPermanent whether to try again.
type Store struct {
	svc     *service.Client
	account string
	bucket  *bucket // the configured container; nil for a whole account
	md5     md5simd.Server
	tr      *transport
	// pageSize is the page size of listings; tests lower it to exercise
	// pagination.
	pageSize int32
}

var (
	_ fs.Tree        = (*Store)(nil)
	_ fs.EntryOpener = (*Store)(nil)
	_ fs.Hasher      = (*Store)(nil)
	_ fs.Sink        = (*Store)(nil)
	_ fs.Checksummer = (*Store)(nil)
	_ fs.Deleter     = (*Store)(nil)
)

// bucket is one container and key prefix: what every operation on a blob
// or a listing works on.
type bucket struct {
	s      *Store
	name   string // container
	prefix string // "" or ending in '/'
	cc     *container.Client
}

// New checks c and builds the client. It does not touch the network; Check
// does.
func New(ctx context.Context, c Config) (*Store, error) {
	a, err := c.resolve()
	if err != nil {
		return nil, err
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = newHTTPClient()
	}
	tr := &transport{client: hc}
	opts := &service.ClientOptions{ClientOptions: policy.ClientOptions{
		Transport: tr,
		Retry:     policy.RetryOptions{MaxRetries: -1},
		Telemetry: policy.TelemetryOptions{Disabled: true},
	}}
	var svc *service.Client
	switch {
	case a.key != "":
		cred, err := service.NewSharedKeyCredential(a.account, a.key)
		if err != nil {
			return nil, errors.New("azblob: AZURE_STORAGE_KEY is not a valid account key (want base64)")
		}
		svc, err = service.NewClientWithSharedKeyCredential(a.endpoint+"/", cred, opts)
		if err != nil {
			return nil, fmt.Errorf("azblob: build client for %s: %w", a.endpoint, redactErr(err))
		}
	case a.sas != "":
		svc, err = service.NewClientWithNoCredential(a.endpoint+"/?"+a.sas, opts)
		if err != nil {
			return nil, fmt.Errorf("azblob: build client for %s (check AZURE_STORAGE_SAS_TOKEN)", a.endpoint)
		}
	default:
		svc, err = service.NewClientWithNoCredential(a.endpoint+"/", opts)
		if err != nil {
			return nil, fmt.Errorf("azblob: build client for %s: %w", a.endpoint, redactErr(err))
		}
	}
	s := &Store{svc: svc, account: a.account, md5: c.MD5, tr: tr, pageSize: pageSize}
	if c.Container != "" {
		s.bucket = s.open(c.Container, normPrefix(c.Prefix))
	}
	return s, nil
}

// normPrefix turns a key prefix into "" or a string ending in '/'.
func normPrefix(p string) string {
	p = strings.TrimLeft(p, "/")
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// open returns the bucket of a container and prefix.
func (s *Store) open(name, prefix string) *bucket {
	return &bucket{s: s, name: name, prefix: prefix, cc: s.svc.NewContainerClient(name)}
}

// Account returns the store's account name.
func (s *Store) Account() string { return s.account }

// Container returns the store's container, "" for a whole account.
func (s *Store) Container() string {
	if s.bucket == nil {
		return ""
	}
	return s.bucket.name
}

// Prefix returns the store's key prefix ("" or ending in '/').
func (s *Store) Prefix() string {
	if s.bucket == nil {
		return ""
	}
	return s.bucket.prefix
}

// describe names the store in messages: azblob://account/container/prefix.
func (s *Store) describe() string {
	d := "azblob://" + s.account + "/"
	if s.bucket != nil {
		d += s.bucket.name + "/" + strings.TrimSuffix(s.bucket.prefix, "/")
	}
	return d
}

// Check verifies that the container exists and the credentials may list
// it, or for a whole account that its containers can be listed. The errors are one line without secrets: "container X
// does not exist" (wrapping fs.ErrNotExist), "access denied … (check …)"
// (wrapping fs.ErrPermission).
func (s *Store) Check(ctx context.Context) error {
	var err error
	if s.bucket != nil {
		// One listed name, not Get Container Properties, which a container
		// SAS does not allow.
		pager := s.bucket.cc.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{MaxResults: ptr(int32(1))})
		_, err = pager.NextPage(ctx)
		err = wrap("list blobs of container", s.bucket.name, err)
	} else {
		pager := s.svc.NewListContainersPager(&service.ListContainersOptions{MaxResults: ptr(int32(1))})
		_, err = pager.NextPage(ctx)
		err = wrap("list containers", "", err)
	}
	var e *Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e) && e.Status == http.StatusNotFound && s.bucket != nil:
		return fmt.Errorf("check %s: container %s does not exist in account %s: %w", s.describe(), s.bucket.name, s.account, err)
	case errors.As(err, &e) && (e.Status == http.StatusForbidden || e.Status == http.StatusUnauthorized):
		return fmt.Errorf("check %s: access denied (check AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN or AZURE_STORAGE_CONNECTION_STRING): %w", s.describe(), err)
	default:
		return fmt.Errorf("check %s: %w", s.describe(), err)
	}
}

// locate maps a Sink key (or a tree key) to its bucket and the key
// relative to that bucket's prefix. For a whole account the first segment
// names the container.
func (s *Store) locate(key string) (*bucket, string, error) {
	if s.bucket != nil {
		return s.bucket, key, nil
	}
	c, rest, ok := strings.Cut(key, "/")
	if !ok || rest == "" || !validContainer(c) {
		return nil, "", permanentf("azblob: key %q of a whole account must be CONTAINER/KEY with a valid container name", key)
	}
	return s.open(c, ""), rest, nil
}

// full turns a prefix-relative key into a blob name.
func (b *bucket) full(key string) string { return b.prefix + key }

// label names a blob in messages: "container/blob".
func (b *bucket) label(key string) string { return b.name + "/" + b.full(key) }

// blob returns the client of the blob at a prefix-relative key.
func (b *bucket) blob(key string) *blob.Client { return b.cc.NewBlobClient(b.full(key)) }

// blockBlob returns the block blob client at a prefix-relative key.
func (b *bucket) blockBlob(key string) *blockblob.Client { return b.cc.NewBlockBlobClient(b.full(key)) }

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// quoteETag returns etag in double quotes, as If-Match wants it.
func quoteETag(etag string) azcore.ETag {
	return azcore.ETag(`"` + strings.Trim(etag, `"`) + `"`)
}
