package azblob

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/test/azuritetest"
)

// TestConfigFromEnv: the prefixed variable wins over the plain one; the
// credentials go together, so a side's own SAS is not outranked by a
// plain key.
func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"AZURE_STORAGE_ACCOUNT":             "plainacct",
		"AZURE_STORAGE_KEY":                 "plainkey",
		"AZURE_STORAGE_SAS_TOKEN":           "sv=1&sig=plain",
		"FERRY_DST_AZURE_STORAGE_SAS_TOKEN": "sv=1&sig=dst",
		"FERRY_SRC_AZURE_STORAGE_ACCOUNT":   "srcacct",
		"AZURE_STORAGE_ENDPOINT":            "http://127.0.0.1:10000/plainacct",
		"FERRY_DST_AZURE_STORAGE_ENDPOINT":  "https://dst.blob.core.chinacloudapi.cn",
	}
	get := func(k string) string { return env[k] }
	src := ConfigFromEnv(get, "FERRY_SRC_")
	if src.Account != "srcacct" || src.Key != "plainkey" || src.SASToken != "sv=1&sig=plain" || src.Endpoint != env["AZURE_STORAGE_ENDPOINT"] {
		t.Errorf("src = %+v (key %q, sas %q)", src, src.Key, src.SASToken)
	}
	dst := ConfigFromEnv(get, "FERRY_DST_")
	if dst.Account != "plainacct" || dst.Key != "" || dst.SASToken != "sv=1&sig=dst" || dst.Endpoint != env["FERRY_DST_AZURE_STORAGE_ENDPOINT"] {
		t.Errorf("dst = %+v (key %q, sas %q)", dst, dst.Key, dst.SASToken)
	}
	if plain := ConfigFromEnv(get, ""); plain.Key != "plainkey" || plain.Account != "plainacct" {
		t.Errorf("no prefix = %+v", plain)
	}
	src.ConnectionString = "AccountKey=cs-secret"
	if s := fmt.Sprintf("%v %+v %#v %s", src, src, src, src); strings.Contains(s, "plainkey") || strings.Contains(s, "sig=") || strings.Contains(s, "cs-secret") {
		t.Errorf("formatted config shows a secret: %s", s)
	}
}

// TestConfig_resolve: endpoints, connection strings and the errors of a
// bad configuration, none of which quotes a secret.
func TestConfig_resolve(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte("secret-key-bytes"))
	cases := []struct {
		name string
		c    Config
		want access // endpoint and account checked; key/sas presence
		err  string
	}{
		{"default endpoint", Config{Account: "acct", Key: key},
			access{account: "acct", endpoint: "https://acct.blob.core.windows.net", key: key}, ""},
		{"override", Config{Account: "acct", SASToken: "?sv=1&sig=s", Endpoint: "http://127.0.0.1:1234/acct/"},
			access{account: "acct", endpoint: "http://127.0.0.1:1234/acct", sas: "sv=1&sig=s"}, ""},
		{"connection string", Config{ConnectionString: "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + key + ";EndpointSuffix=core.chinacloudapi.cn"},
			access{account: "acct", endpoint: "https://acct.blob.core.chinacloudapi.cn", key: key}, ""},
		{"connection string with SAS", Config{Account: "acct", ConnectionString: "BlobEndpoint=http://127.0.0.1:9/acct;SharedAccessSignature=sv=1&sig=s"},
			access{account: "acct", endpoint: "http://127.0.0.1:9/acct", sas: "sv=1&sig=s"}, ""},
		{"development storage", Config{ConnectionString: "UseDevelopmentStorage=true", Container: "c1c"},
			access{account: devAccount, endpoint: devEndpoint, key: devKey}, ""},
		{"endpoint beats connection string", Config{ConnectionString: "AccountName=acct;AccountKey=" + key, Endpoint: "http://h:1/acct"},
			access{account: "acct", endpoint: "http://h:1/acct", key: key}, ""},
		{"no account", Config{Key: key}, access{}, "account missing"},
		{"bad account", Config{Account: "Bad_Name", Key: key}, access{}, "invalid"},
		{"bad container", Config{Account: "acct", Container: "Bad"}, access{}, "container name"},
		{"prefix without container", Config{Account: "acct", Prefix: "p"}, access{}, "needs a container"},
		{"account mismatch", Config{Account: "other", ConnectionString: "AccountName=acct;AccountKey=" + key}, access{}, "not \"other\""},
		{"malformed connection string", Config{ConnectionString: "AccountName=acct;AccountKey=" + key + ";garbage"}, access{}, "malformed"},
		{"connection string without secret", Config{ConnectionString: "AccountName=acct"}, access{}, "neither"},
		{"endpoint with query", Config{Account: "acct", Endpoint: "http://h/acct?sig=s"}, access{}, "invalid"},
	}
	for _, c := range cases {
		a, err := c.c.resolve()
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err = %v, want %q", c.name, err, c.err)
			}
			if err != nil && (strings.Contains(err.Error(), key) || strings.Contains(err.Error(), "sig=s")) {
				t.Errorf("%s: error shows a secret: %v", c.name, err)
			}
			continue
		}
		if err != nil || a != c.want {
			t.Errorf("%s: resolve = %+v, %v; want %+v", c.name, a, err, c.want)
		}
	}
}

// TestStore_Credentials reaches Azurite with each kind of credential: a
// connection string, an account SAS token, and a container SAS (for which
// the endpoint override is the emulator's URL).
func TestStore_Credentials(t *testing.T) {
	srv := azuritetest.Start(t)
	srv.CreateContainer(t, "creds")
	ctx := context.Background()
	svcSAS, err := srv.Client().GetSASURL(sas.AccountResourceTypes{Service: true, Container: true, Object: true},
		sas.AccountPermissions{Read: true, Write: true, List: true, Create: true, Add: true, Delete: true}, time.Now().Add(time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctrSAS, err := srv.Client().NewContainerClient("creds").GetSASURL(sas.ContainerPermissions{Read: true, Write: true, List: true, Create: true, Add: true},
		time.Now().Add(time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	query := func(u string) string {
		p, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		return p.RawQuery
	}
	for name, c := range map[string]Config{
		"connection string": {ConnectionString: srv.ConnectionString(), Container: "creds", Prefix: "cs"},
		"account SAS":       {Account: srv.Account, SASToken: "?" + query(svcSAS), Endpoint: srv.Endpoint, Container: "creds", Prefix: "acct-sas"},
		"container SAS":     {Account: srv.Account, SASToken: query(ctrSAS), Endpoint: srv.Endpoint, Container: "creds", Prefix: "ctr-sas"},
	} {
		st, err := New(ctx, c)
		if err != nil {
			t.Errorf("%s: New: %v", name, err)
			continue
		}
		if err := st.Check(ctx); err != nil {
			t.Errorf("%s: Check: %v", name, err)
		}
		data := []byte("via " + name)
		if _, err := st.Put(ctx, "f.txt", bytes.NewReader(data), int64(len(data))); err != nil {
			t.Errorf("%s: Put: %v", name, err)
			continue
		}
		e, err := st.Stat(ctx, "f.txt")
		if err != nil {
			t.Errorf("%s: Stat: %v", name, err)
			continue
		}
		f, err := st.OpenEntry(ctx, e)
		if err != nil {
			t.Errorf("%s: OpenEntry: %v", name, err)
			continue
		}
		if got := readAll(t, f, e.Size); !bytes.Equal(got, data) {
			t.Errorf("%s: read %q", name, got)
		}
		f.Close()
	}
}

// TestStore_BadCredentials: a wrong key, a forged SAS and an unreachable
// endpoint give one-line errors that say what to check and never show the
// key or the signature.
func TestStore_BadCredentials(t *testing.T) {
	srv := azuritetest.Start(t)
	srv.CreateContainer(t, "locked")
	ctx := context.Background()
	wrongKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("k"), 64))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/" + srv.Account
	l.Close()
	const sig = "sv=2020-02-10&ss=b&srt=sco&sp=rl&se=2099-01-01T00:00:00Z&sig=Zm9yZ2VkLXNpZ25hdHVyZQ%3D%3D"
	for name, c := range map[string]struct {
		cfg     Config
		secret  string
		want    string
		permErr bool
	}{
		"wrong key":            {Config{Account: srv.Account, Key: wrongKey, Endpoint: srv.Endpoint, Container: "locked"}, wrongKey, "access denied", true},
		"wrong key, account":   {Config{Account: srv.Account, Key: wrongKey, Endpoint: srv.Endpoint}, wrongKey, "access denied", true},
		"forged SAS":           {Config{Account: srv.Account, SASToken: sig, Endpoint: srv.Endpoint, Container: "locked"}, "Zm9yZ2Vk", "access denied", true},
		"unreachable with SAS": {Config{Account: srv.Account, SASToken: sig, Endpoint: closed, Container: "locked"}, "Zm9yZ2Vk", "refused", false},
		"missing container":    {Config{Account: srv.Account, Key: srv.Key, Endpoint: srv.Endpoint, Container: "nosuch"}, srv.Key, "does not exist", true},
	} {
		st, err := New(ctx, c.cfg)
		if err != nil {
			t.Fatalf("%s: New: %v", name, err)
		}
		err = st.Check(ctx)
		if err == nil {
			t.Errorf("%s: Check passed", name)
			continue
		}
		msg := err.Error()
		t.Logf("%s: %s", name, msg)
		if !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") || strings.Contains(msg, c.secret) || strings.Contains(msg, "sig=") {
			t.Errorf("%s: Check = %q; want one line with %q and no secret", name, msg, c.want)
		}
		if st.IsPermanent(err) != c.permErr {
			t.Errorf("%s: IsPermanent = %v, want %v", name, st.IsPermanent(err), c.permErr)
		}
		// A failing read says as little.
		_, err = st.Open(ctx, "x")
		if err == nil || strings.Contains(err.Error(), c.secret) || strings.Contains(err.Error(), "sig=") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: Open = %v", name, err)
		}
	}
}

// TestStore_PutRefusesDamage: bytes that do not match the MD5 they came
// with are refused by the service (Content-MD5), not stored, and the
// refusal is retried rather than failing the object.
func TestStore_PutRefusesDamage(t *testing.T) {
	srv := azuritetest.Start(t)
	srv.CreateContainer(t, "md5")
	st := newStore(t, srv, "md5", "")
	ctx := context.Background()
	good := []byte("the bytes that were hashed")
	bad := []byte("the bytes that were HASHED")
	sum := md5.Sum(good)
	_, err := st.Put(ctx, "f", summedReader{bytes.NewReader(bad), sum[:]}, int64(len(bad)))
	if err == nil {
		t.Fatal("Put of damaged bytes: no error")
	}
	t.Logf("Put of damaged bytes: %v", err)
	if st.IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = true, want a retry", err)
	}
	if _, err := st.Head(ctx, "f"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Head after the refused Put = %v, want fs.ErrNotExist", err)
	}
	up, err := st.CreateMultipart(ctx, "g", 2*MinPartSize, MinPartSize)
	if err != nil {
		t.Fatal(err)
	}
	part := bytes.Repeat([]byte("x"), MinPartSize)
	psum := md5.Sum(append([]byte("y"), part[1:]...))
	if _, err := st.UploadPart(ctx, "g", up.ID, 0, summedReader{bytes.NewReader(part), psum[:]}, int64(len(part))); err == nil || st.IsPermanent(err) {
		t.Errorf("UploadPart of damaged bytes = %v, want a transient error", err)
	}
	if parts, err := st.ListParts(ctx, "g", up.ID); err != nil || len(parts) != 0 {
		t.Errorf("ListParts after the refused block = %+v, %v; want none", parts, err)
	}
	// Put from the middle of a reader stores exactly size bytes from there.
	r := bytes.NewReader([]byte("skip|keep this|tail"))
	if _, err := r.Seek(5, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, "mid", r, 9); err != nil {
		t.Fatal(err)
	}
	if got, err := readBack(srv, "md5", "")(ctx, "mid"); err != nil || string(got) != "keep this" {
		t.Errorf("Put from offset 5 stored %q, %v", got, err)
	}
}

// summedReader is a body that carries its (claimed) MD5, as the engine's
// bodies do.
type summedReader struct {
	*bytes.Reader
	sum []byte
}

func (s summedReader) PartSum() []byte { return s.sum }

var _ fs.SummedBody = summedReader{}
