// Package azblob reads and writes Azure Blob Storage through the Azure SDK
// for Go (sdk/storage/azblob). One Store is both a read-only fs.Tree (a
// source, a mount) and a fs.Sink with a fs.Checksummer (a destination),
// over either one container and key prefix (azblob://ACCOUNT/CONTAINER/p)
// or a whole account (azblob://ACCOUNT/), whose containers are then the
// top-level directories of the tree.
//
// Multipart uploads are block blobs: every part is a staged block whose ID
// is derived from the upload ID, the part number and the part's MD5, so a
// restarted process lists the uncommitted blocks (ListParts) and stages only
// the missing ones; CompleteMultipart commits the block list. See blocks.go.
package azblob

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	md5simd "github.com/minio/md5-simd"
)

// Azurite's (and the legacy storage emulator's) well-known development
// account, used by the connection string "UseDevelopmentStorage=true".
const (
	devAccount  = "devstoreaccount1"
	devKey      = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
	devEndpoint = "http://127.0.0.1:10000/devstoreaccount1"
)

// Config locates an account (and optionally a container and key prefix)
// and says how to reach and sign for it. Format it freely: String never
// shows the key, the SAS token or the connection string.
type Config struct {
	// Account is the storage account name. With a ConnectionString it may
	// be empty (the string names it); when both are set they must agree.
	Account string
	// Container is the container; "" means the whole account: every
	// container is a top-level directory of the tree, and Sink keys start
	// with their container ("container/key").
	Container string
	// Prefix is the key prefix inside Container that the Store treats as
	// its root; "data" and "data/" are the same root. It needs a Container.
	Prefix string

	// Key is the account's shared key (base64), used with Account.
	Key string
	// ConnectionString is an Azure storage connection string
	// (AccountName=…;AccountKey=… or SharedAccessSignature=…, with
	// BlobEndpoint or DefaultEndpointsProtocol/EndpointSuffix, or
	// UseDevelopmentStorage=true). It wins over Key and SASToken.
	ConnectionString string
	// SASToken is a shared access signature ("sv=…&sig=…", a leading '?'
	// is ignored), used when there is neither a connection string nor a key.
	// Without any of the three, requests are anonymous (public containers).
	SASToken string
	// Endpoint is the account's blob service URL:
	// "https://ACCOUNT.blob.core.windows.net" when empty; Azurite is
	// "http://127.0.0.1:PORT/ACCOUNT", a sovereign cloud e.g.
	// "https://ACCOUNT.blob.core.chinacloudapi.cn". It overrides the
	// endpoint a connection string names.
	Endpoint string

	// HTTPClient, when set, sends every request; otherwise a pooled
	// keep-alive client is used. Either way a request whose body moves no
	// byte for two minutes is abandoned.
	HTTPClient *http.Client
	// MD5, when set, hashes parts of 1 MiB and more (see fs/internal/md5x);
	// nil hashes with crypto/md5.
	MD5 md5simd.Server
}

// String describes c without its secrets.
func (c Config) String() string {
	cred := "anonymous"
	switch {
	case c.ConnectionString != "":
		cred = "connection string"
	case c.Key != "":
		cred = "shared key"
	case c.SASToken != "":
		cred = "SAS token"
	}
	return fmt.Sprintf("azblob config{account %q, container %q, prefix %q, endpoint %q, credentials: %s}",
		c.Account, c.Container, c.Prefix, redactURL(c.Endpoint), cred)
}

// GoString is String, so %#v does not show the secrets either.
func (c Config) GoString() string { return c.String() }

// ConfigFromEnv reads AZURE_STORAGE_ACCOUNT, AZURE_STORAGE_KEY,
// AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_SAS_TOKEN and
// AZURE_STORAGE_ENDPOINT. For each variable the prefixed name
// (prefix+"AZURE_STORAGE_KEY", e.g. "FERRY_DST_AZURE_STORAGE_KEY") is
// checked first. The three credentials go together: when any prefixed one
// is set, the plain ones are ignored, so a side's own SAS token is never
// outranked by a plain key meant for the other side. Container and Prefix
// come from the URI, and an account the URI names replaces Account.
func ConfigFromEnv(getenv func(string) string, prefix string) Config {
	get := func(name string) string {
		if prefix != "" {
			if v := getenv(prefix + name); v != "" {
				return v
			}
		}
		return getenv(name)
	}
	credPrefix := ""
	for _, name := range []string{"AZURE_STORAGE_KEY", "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_SAS_TOKEN"} {
		if prefix != "" && getenv(prefix+name) != "" {
			credPrefix = prefix
		}
	}
	cred := func(name string) string { return getenv(credPrefix + name) }
	return Config{
		Account:          get("AZURE_STORAGE_ACCOUNT"),
		Key:              cred("AZURE_STORAGE_KEY"),
		ConnectionString: cred("AZURE_STORAGE_CONNECTION_STRING"),
		SASToken:         cred("AZURE_STORAGE_SAS_TOKEN"),
		Endpoint:         get("AZURE_STORAGE_ENDPOINT"),
	}
}

// access is a Config resolved to one way of signing requests.
type access struct {
	account  string
	endpoint string // service URL without query, no trailing '/'
	key      string // shared key, or ""
	sas      string // SAS query, or ""
}

// resolve checks c and works out the account, endpoint and credential.
// Errors name the variable at fault and never quote a secret.
func (c Config) resolve() (access, error) {
	a := access{account: c.Account, key: c.Key, sas: strings.TrimPrefix(c.SASToken, "?")}
	if c.ConnectionString != "" {
		cs, err := parseConnectionString(c.ConnectionString)
		if err != nil {
			return access{}, err
		}
		if a.account != "" && cs.account != "" && !strings.EqualFold(a.account, cs.account) {
			return access{}, fmt.Errorf("azblob: AZURE_STORAGE_CONNECTION_STRING is for account %q, not %q", cs.account, a.account)
		}
		if a.account == "" {
			a.account = cs.account
		}
		a.key, a.sas = cs.key, cs.sas
		if c.Endpoint == "" {
			a.endpoint = cs.endpoint
		}
	}
	if a.account == "" {
		return access{}, errors.New("azblob: account missing (want azblob://ACCOUNT/CONTAINER/prefix, or set AZURE_STORAGE_ACCOUNT)")
	}
	if !validAccount(a.account) {
		return access{}, fmt.Errorf("azblob: account name %q is invalid (3-24 lowercase letters and digits)", a.account)
	}
	if c.Container == "" && strings.Trim(c.Prefix, "/") != "" {
		return access{}, errors.New("azblob: a key prefix needs a container (want azblob://ACCOUNT/CONTAINER/prefix)")
	}
	if c.Container != "" && !validContainer(c.Container) {
		return access{}, fmt.Errorf("azblob: container name %q is invalid (3-63 lowercase letters, digits and single hyphens)", c.Container)
	}
	if a.endpoint == "" {
		a.endpoint = c.Endpoint
	}
	if a.endpoint == "" {
		a.endpoint = "https://" + a.account + ".blob.core.windows.net"
	}
	u, err := url.Parse(a.endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.RawQuery != "" || u.User != nil {
		return access{}, fmt.Errorf("azblob: endpoint %q is invalid: want http(s)://host[:port][/path] without query or user", redactURL(a.endpoint))
	}
	a.endpoint = strings.TrimRight(u.String(), "/")
	if a.key != "" {
		a.sas = "" // a shared key signs every request; a SAS is not needed beside it
	}
	return a, nil
}

// connString is what a connection string says.
type connString struct {
	account, key, sas, endpoint string
}

// parseConnectionString reads "Key=Value;…" pairs. Unknown keys are
// ignored; the error never quotes the string (it holds the secret).
func parseConnectionString(s string) (connString, error) {
	kv := map[string]string{}
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return connString{}, errors.New("azblob: AZURE_STORAGE_CONNECTION_STRING is malformed (want Key=Value pairs separated by ';')")
		}
		kv[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	if strings.EqualFold(kv["usedevelopmentstorage"], "true") {
		return connString{account: devAccount, key: devKey, endpoint: devEndpoint}, nil
	}
	cs := connString{
		account:  kv["accountname"],
		key:      kv["accountkey"],
		sas:      strings.TrimPrefix(kv["sharedaccesssignature"], "?"),
		endpoint: kv["blobendpoint"],
	}
	if cs.endpoint == "" && cs.account != "" {
		proto, suffix := kv["defaultendpointsprotocol"], kv["endpointsuffix"]
		if proto == "" {
			proto = "https"
		}
		if suffix == "" {
			suffix = "core.windows.net"
		}
		cs.endpoint = proto + "://" + cs.account + ".blob." + suffix
	}
	if cs.account == "" && cs.endpoint != "" {
		cs.account = accountFromEndpoint(cs.endpoint)
	}
	if cs.key == "" && cs.sas == "" {
		return connString{}, errors.New("azblob: AZURE_STORAGE_CONNECTION_STRING has neither AccountKey nor SharedAccessSignature")
	}
	if cs.key != "" && cs.account == "" {
		return connString{}, errors.New("azblob: AZURE_STORAGE_CONNECTION_STRING has an AccountKey but no AccountName")
	}
	return cs, nil
}

// accountFromEndpoint guesses the account of a blob endpoint: the first
// label of "ACCOUNT.blob.…", or the first path segment of an emulator URL.
func accountFromEndpoint(ep string) string {
	u, err := url.Parse(ep)
	if err != nil {
		return ""
	}
	if host, _, ok := strings.Cut(u.Hostname(), ".blob."); ok {
		return host
	}
	seg, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	return seg
}

// validAccount reports whether name is a storage account name.
func validAccount(name string) bool {
	if len(name) < 3 || len(name) > 24 {
		return false
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// validContainer reports whether name is a container name ("$root" and
// "$web" included).
func validContainer(name string) bool {
	if name == "$root" || name == "$web" || name == "$logs" {
		return true
	}
	if len(name) < 3 || len(name) > 63 || name[0] == '-' || name[len(name)-1] == '-' || strings.Contains(name, "--") {
		return false
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// redactURL drops the query (a SAS) and user info of a URL for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if i := strings.IndexAny(s, "?#"); i >= 0 {
			return s[:i]
		}
		return s
	}
	u.RawQuery, u.ForceQuery, u.User, u.Fragment = "", false, nil, ""
	return u.String()
}
