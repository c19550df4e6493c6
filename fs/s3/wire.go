package s3

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/encoding/httpbinding"

	"github.com/ferry-project/ferry/fs/internal/stall"
)

// Payload hashes of signature version 4.
const (
	emptySHA256     = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// wire sends the data requests — PutObject, UploadPart and ranged
// GetObject — as plain net/http requests signed with the SDK's own v4
// signer, to the bucket URL the SDK's own endpoint rules resolve. The
// SDK's middleware stack costs tens of microseconds of CPU per request,
// which for small objects on a busy machine is a large share of the
// whole copy; listings, HEAD, multipart bookkeeping and deletes, whose
// count does not grow with the bytes, stay on the SDK client.
type wire struct {
	http interface {
		Do(*http.Request) (*http.Response, error)
	}
	base   url.URL // the bucket's URL, without a trailing '/'
	creds  aws.CredentialsProvider
	signer *v4.Signer
	region string
	stall  time.Duration // see do; stall.DefaultTimeout when 0
}

// newWire resolves the bucket URL for the client's options.
func newWire(ctx context.Context, o s3.Options, bucket string) (*wire, error) {
	ep, err := o.EndpointResolverV2.ResolveEndpoint(ctx, s3.EndpointParameters{
		Bucket:         aws.String(bucket),
		Region:         aws.String(o.Region),
		Endpoint:       o.BaseEndpoint,
		ForcePathStyle: aws.Bool(o.UsePathStyle),
	}.WithDefaults())
	if err != nil {
		return nil, fmt.Errorf("resolve endpoint of bucket %s: %w", bucket, err)
	}
	base := ep.URI
	base.Path = strings.TrimSuffix(base.Path, "/")
	base.RawPath = strings.TrimSuffix(base.RawPath, "/")
	return &wire{
		http:   o.HTTPClient,
		base:   base,
		creds:  o.Credentials,
		signer: v4.NewSigner(func(so *v4.SignerOptions) { so.DisableURIPathEscaping = true }),
		region: o.Region,
	}, nil
}

// objectURL is the URL of a bucket key, escaped as the SDK escapes it
// ('/' kept, everything but unreserved characters percent-encoded).
func (w *wire) objectURL(key string, query url.Values) *url.URL {
	u := w.base
	u.Path = w.base.Path + "/" + key
	u.RawPath = w.base.EscapedPath() + "/" + httpbinding.EscapePath(key, false)
	u.RawQuery = query.Encode()
	return &u
}

// do signs and sends one request and returns a response with a 2xx
// status; any other status is read into a *responseError. body may be
// nil; md5 (the body's raw MD5, or nil) is sent as Content-MD5 so that
// the store refuses damaged bytes, and then the payload is not hashed
// again for the signature (UNSIGNED-PAYLOAD). Without it the payload is
// signed by its SHA-256 over plain HTTP, and left unsigned over TLS, as
// the SDK does.
//
// A request whose body (either way) moves no byte for w.stall is
// abandoned with an error wrapping stall.ErrStalled, which IsPermanent
// treats as transient. The returned body must be closed.
func (w *wire) do(ctx context.Context, method string, u *url.URL, body io.ReadSeeker, size int64, md5 []byte, hdr http.Header) (*http.Response, error) {
	g := stall.Start(ctx, w.stall)
	resp, err := w.send(g, method, u, body, size, md5, hdr)
	if err != nil {
		g.Stop()
		return nil, g.Err(err)
	}
	resp.Body = g.Body(resp.Body)
	return resp, nil
}

// send is do's request under the stall guard g.
func (w *wire) send(g *stall.Guard, method string, u *url.URL, body io.ReadSeeker, size int64, md5 []byte, hdr http.Header) (*http.Response, error) {
	ctx := g.Context()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.URL = u // keep RawPath exactly as escaped
	for k, v := range hdr {
		req.Header[k] = v
	}
	payload := emptySHA256
	if body != nil {
		req.ContentLength = size
		open := func() (io.ReadCloser, error) {
			if _, err := body.Seek(0, io.SeekStart); err != nil {
				return nil, fmt.Errorf("rewind body: %w", err)
			}
			return io.NopCloser(g.Reader(io.LimitReader(body, size))), nil
		}
		req.GetBody = open
		if req.Body, err = open(); err != nil {
			return nil, err
		}
		if size == 0 {
			req.Body, req.GetBody = http.NoBody, nil
		}
		switch {
		case md5 != nil:
			req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(md5))
			payload = unsignedPayload
		case u.Scheme == "https":
			payload = unsignedPayload
		default:
			if payload, err = sha256Hex(body); err != nil {
				return nil, fmt.Errorf("hash body: %w", err)
			}
		}
	}
	req.Header.Set("X-Amz-Content-Sha256", payload)
	var creds aws.Credentials
	if w.creds != nil {
		if creds, err = w.creds.Retrieve(ctx); err != nil {
			return nil, fmt.Errorf("retrieve credentials: %w", err)
		}
	}
	if creds.HasKeys() {
		if creds.SessionToken != "" {
			req.Header.Set("X-Amz-Security-Token", creds.SessionToken)
		}
		if err := w.signer.SignHTTP(ctx, creds, req, payload, "s3", w.region, time.Now()); err != nil {
			return nil, fmt.Errorf("sign request: %w", err)
		}
	}
	resp, err := w.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, readError(resp)
	}
	return resp, nil
}

// sha256Hex hashes what is left of body and rewinds it to its start.
func sha256Hex(body io.ReadSeeker) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, body); err != nil {
		return "", err
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// drain reads what is left of a response body (at most a little) and
// closes it, so the connection goes back to the pool.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
}

// responseError is a non-2xx answer of a wire request. It is a
// smithy.APIError (ErrorCode is the S3 code from the XML body, or one
// derived from the status) and carries HTTPStatusCode, so httpStatus,
// apiCode and IsPermanent treat it as they treat the SDK's errors.
type responseError struct {
	status    int
	code, msg string
	requestID string
}

var _ smithy.APIError = (*responseError)(nil)

func (e *responseError) Error() string {
	return fmt.Sprintf("StatusCode: %d, RequestID: %s, api error %s: %s", e.status, e.requestID, e.code, e.msg)
}
func (e *responseError) ErrorCode() string    { return e.code }
func (e *responseError) ErrorMessage() string { return e.msg }
func (e *responseError) HTTPStatusCode() int  { return e.status }
func (e *responseError) ErrorFault() smithy.ErrorFault {
	if e.status >= 500 {
		return smithy.FaultServer
	}
	return smithy.FaultClient
}

// readError turns an S3 error response into a *responseError.
func readError(resp *http.Response) error {
	var body struct {
		Code, Message, RequestId string
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = xml.Unmarshal(b, &body)
	e := &responseError{status: resp.StatusCode, code: body.Code, msg: body.Message, requestID: body.RequestId}
	if e.requestID == "" {
		e.requestID = resp.Header.Get("X-Amz-Request-Id")
	}
	if e.code == "" {
		e.code = statusCode(resp.StatusCode)
	}
	if e.msg == "" {
		e.msg = http.StatusText(resp.StatusCode)
	}
	return e
}

// statusCode names a status for an error response without an XML body,
// as the SDK does for HEAD ("NotFound", …).
func statusCode(status int) string {
	switch status {
	case http.StatusNotFound:
		return "NotFound"
	case http.StatusForbidden:
		return "Forbidden"
	case http.StatusPreconditionFailed:
		return "PreconditionFailed"
	default:
		return strings.ReplaceAll(http.StatusText(status), " ", "")
	}
}
