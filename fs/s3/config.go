// Package s3 reads and writes S3 and S3-compatible object stores (AWS,
// MinIO, Aliyun OSS, Tencent COS, Qiniu Kodo, …) through aws-sdk-go-v2. One
// Store is both a read-only fs.Tree (a source) and a fs.Sink (a
// destination) over one bucket and key prefix.
package s3

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	md5simd "github.com/minio/md5-simd"
)

// UpYunEndpoint is the S3 API of UpYun (the "upyun" preset).
const UpYunEndpoint = "https://s3.api.upyun.com"

// DefaultRegion is the region used when none is configured.
const DefaultRegion = "us-east-1"

// Config locates a bucket and prefix and says how to reach and sign for it.
// Format it freely: String never shows the keys.
type Config struct {
	// Endpoint is the service base URL ("http://127.0.0.1:9000",
	// "https://oss-cn-hangzhou.aliyuncs.com"); "" means AWS's own endpoint
	// for Region. A value without a scheme gets "https://".
	Endpoint string
	// Region signs requests; DefaultRegion when empty.
	Region string
	// AccessKey, SecretKey and SessionToken are the credentials. All empty
	// means anonymous requests (public buckets).
	AccessKey, SecretKey, SessionToken string
	// PathStyle forces path-style addressing (http://host/bucket/key), which
	// MinIO and IP-address endpoints need; virtual-host style otherwise.
	PathStyle bool
	// Bucket is the bucket; Prefix is the key prefix inside it that the
	// Store treats as its root. A non-empty Prefix names a "directory": it is
	// used with a trailing '/' ("data" and "data/" are the same root).
	Bucket, Prefix string
	// Provider is "", "s3", "oss", "cos", "kodo" or "minio": the preset
	// ApplyPreset applies (see there).
	Provider string
	// HTTPClient, when set, sends every request (its transport's connection
	// pool should be sized by the caller to the worker count).
	HTTPClient *http.Client
	// MD5, when set, hashes parts of 1 MiB and more (PartHash, see
	// fs/internal/md5x): a multi-buffer SIMD server, shared by the drivers
	// of a process and closed by whoever made it; nil hashes every part
	// with crypto/md5.
	MD5 md5simd.Server
}

// String describes c without its credentials.
func (c Config) String() string {
	keys := "anonymous"
	if c.AccessKey != "" {
		keys = "static keys"
	}
	return fmt.Sprintf("s3 config{provider %q, endpoint %q, region %q, path-style %t, bucket %q, prefix %q, credentials: %s}",
		c.Provider, c.Endpoint, c.Region, c.PathStyle, c.Bucket, c.Prefix, keys)
}

// GoString is String, so %#v does not show the keys either.
func (c Config) GoString() string { return c.String() }

// ApplyPreset completes c for its Provider and checks it; it only fills
// fields that are empty, so applying it twice changes nothing. Presets:
//
//   - "" or "s3": AWS. Endpoint may stay empty (the SDK resolves AWS's
//     endpoint for Region).
//   - "oss" (Aliyun OSS): Endpoint https://oss-<region>.aliyuncs.com
//     (a Region already starting with "oss-" is used as it is);
//     virtual-host addressing, which OSS requires.
//   - "cos" (Tencent COS): Endpoint https://cos.<region>.myqcloud.com
//     (Region like "ap-guangzhou"; the bucket name carries the APPID).
//   - "kodo" (Qiniu Kodo): Endpoint https://s3.<region>.qiniucs.com
//     (Region like "cn-east-1").
//   - "minio": path-style addressing; Endpoint is required.
//   - "upyun" (UpYun, 又拍云): Endpoint https://s3.api.upyun.com,
//     path-style addressing (s3.api.upyun.com/<bucket>/<key>; UpYun also
//     answers <bucket>.s3.api.upyun.com, but path style needs no per-bucket
//     DNS or certificate). UpYun has no regions, so Region is always
//     DefaultRegion, which SigV4 signs with. The keys are an operator's
//     name and password; UpYun does not take a session token. Objects are
//     written in the STANDARD class (Ferry never sets another).
//
// oss, cos and kodo need a Region unless Endpoint is given. For any
// provider, an Endpoint whose host is an IP address or "localhost" turns on
// PathStyle (virtual hosts cannot work there). Region defaults to
// DefaultRegion. Errors name the missing setting, never a key.
func ApplyPreset(c Config) (Config, error) {
	c.Provider = strings.ToLower(strings.TrimSpace(c.Provider))
	c.Prefix = normPrefix(c.Prefix)
	if c.Bucket == "" {
		return c, errors.New("s3 config: bucket is empty")
	}
	switch c.Provider {
	case "", "s3":
	case "oss":
		if err := fillEndpoint(&c, func(r string) string {
			if strings.HasPrefix(r, "oss-") {
				return "https://" + r + ".aliyuncs.com"
			}
			return "https://oss-" + r + ".aliyuncs.com"
		}); err != nil {
			return c, err
		}
	case "cos":
		if err := fillEndpoint(&c, func(r string) string { return "https://cos." + r + ".myqcloud.com" }); err != nil {
			return c, err
		}
	case "kodo":
		if err := fillEndpoint(&c, func(r string) string { return "https://s3." + r + ".qiniucs.com" }); err != nil {
			return c, err
		}
	case "minio":
		if c.Endpoint == "" {
			return c, errors.New("s3 config: the minio provider needs an endpoint (AWS_ENDPOINT_URL or --endpoint, e.g. http://host:9000)")
		}
		c.PathStyle = true
	case "upyun":
		if c.Endpoint == "" {
			c.Endpoint = UpYunEndpoint
		}
		c.PathStyle, c.Region = true, DefaultRegion
		if c.SessionToken != "" {
			return c, errors.New("s3 config: upyun takes no session token (unset AWS_SESSION_TOKEN; the keys are an operator's name and password)")
		}
	default:
		return c, fmt.Errorf("s3 config: unknown provider %q (want s3, oss, cos, kodo, minio or upyun)", c.Provider)
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.Endpoint != "" {
		ep, host, err := normEndpoint(c.Endpoint)
		if err != nil {
			return c, err
		}
		c.Endpoint = ep
		if host == "localhost" || net.ParseIP(host) != nil {
			c.PathStyle = true
		}
	}
	if (c.AccessKey == "") != (c.SecretKey == "") {
		return c, errors.New("s3 config: access key and secret key must be set together (or both left empty for anonymous access)")
	}
	if c.SessionToken != "" && c.AccessKey == "" {
		return c, errors.New("s3 config: a session token needs an access key and secret key")
	}
	return c, nil
}

// fillEndpoint sets c.Endpoint from a region template unless already set.
func fillEndpoint(c *Config, tmpl func(region string) string) error {
	if c.Endpoint != "" {
		return nil
	}
	if c.Region == "" {
		return fmt.Errorf("s3 config: the %s provider needs a region (AWS_REGION or --region) or an endpoint", c.Provider)
	}
	c.Endpoint = tmpl(c.Region)
	return nil
}

// normEndpoint adds a missing "https://" scheme, drops a trailing '/', and
// returns the host name.
func normEndpoint(ep string) (string, string, error) {
	ep = strings.TrimSpace(ep)
	if !strings.Contains(ep, "://") {
		ep = "https://" + ep
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", "", fmt.Errorf("s3 config: invalid endpoint %q (want http(s)://host[:port])", ep)
	}
	if u.User != nil {
		return "", "", errors.New("s3 config: endpoint must not carry credentials")
	}
	return strings.TrimRight(ep, "/"), u.Hostname(), nil
}

// normPrefix trims leading slashes and gives a non-empty prefix one
// trailing slash.
func normPrefix(p string) string {
	p = strings.TrimLeft(p, "/")
	if p == "" || strings.HasSuffix(p, "/") {
		return p
	}
	return p + "/"
}

// ConfigFromEnv reads the usual AWS variables through getenv (os.Getenv in
// production). With a non-empty prefix (e.g. "FERRY_SRC_") each variable is
// looked up as prefix+NAME first, then as NAME. Credentials are taken as a
// group: if prefix+AWS_ACCESS_KEY_ID or prefix+AWS_SECRET_ACCESS_KEY is set,
// the access key, secret key and session token all come from the prefixed
// variables, so one account's key is never paired with another's secret.
// Region is AWS_REGION, else AWS_DEFAULT_REGION; Endpoint is
// AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL (prefixed forms of both first).
// Bucket, Prefix and Provider are left empty for the caller.
func ConfigFromEnv(getenv func(string) string, prefix string) Config {
	first := func(names ...string) string {
		for _, p := range []string{prefix, ""} {
			for _, n := range names {
				if v := getenv(p + n); v != "" {
					return v
				}
			}
			if prefix == "" {
				break
			}
		}
		return ""
	}
	credPrefix := ""
	if prefix != "" && (getenv(prefix+"AWS_ACCESS_KEY_ID") != "" || getenv(prefix+"AWS_SECRET_ACCESS_KEY") != "") {
		credPrefix = prefix
	}
	return Config{
		Endpoint:     first("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
		Region:       first("AWS_REGION", "AWS_DEFAULT_REGION"),
		AccessKey:    getenv(credPrefix + "AWS_ACCESS_KEY_ID"),
		SecretKey:    getenv(credPrefix + "AWS_SECRET_ACCESS_KEY"),
		SessionToken: getenv(credPrefix + "AWS_SESSION_TOKEN"),
	}
}
