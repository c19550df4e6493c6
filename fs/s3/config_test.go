package s3

import (
	"fmt"
	"strings"
	"testing"
)

func TestApplyPreset(t *testing.T) {
	cases := []struct {
		name string
		in   Config
		want Config // compared on Endpoint, Region, PathStyle, Prefix
	}{
		{"aws default", Config{Bucket: "b"}, Config{Region: DefaultRegion}},
		{"s3 keeps endpoint", Config{Provider: "S3", Bucket: "b", Region: "eu-west-1", Endpoint: "https://s3.example.com/"},
			Config{Region: "eu-west-1", Endpoint: "https://s3.example.com"}},
		{"oss", Config{Provider: "oss", Bucket: "b", Region: "cn-hangzhou"},
			Config{Region: "cn-hangzhou", Endpoint: "https://oss-cn-hangzhou.aliyuncs.com"}},
		{"oss region id", Config{Provider: "oss", Bucket: "b", Region: "oss-cn-beijing"},
			Config{Region: "oss-cn-beijing", Endpoint: "https://oss-cn-beijing.aliyuncs.com"}},
		{"cos", Config{Provider: "cos", Bucket: "b-125", Region: "ap-guangzhou"},
			Config{Region: "ap-guangzhou", Endpoint: "https://cos.ap-guangzhou.myqcloud.com"}},
		{"kodo", Config{Provider: "kodo", Bucket: "b", Region: "cn-east-1"},
			Config{Region: "cn-east-1", Endpoint: "https://s3.cn-east-1.qiniucs.com"}},
		{"kodo explicit endpoint", Config{Provider: "kodo", Bucket: "b", Endpoint: "s3.example.net"},
			Config{Region: DefaultRegion, Endpoint: "https://s3.example.net"}},
		{"minio", Config{Provider: "minio", Bucket: "b", Endpoint: "http://minio.lan:9000"},
			Config{Region: DefaultRegion, Endpoint: "http://minio.lan:9000", PathStyle: true}},
		{"ip endpoint forces path style", Config{Bucket: "b", Endpoint: "http://127.0.0.1:9000"},
			Config{Region: DefaultRegion, Endpoint: "http://127.0.0.1:9000", PathStyle: true}},
		{"localhost endpoint forces path style", Config{Bucket: "b", Endpoint: "http://localhost:9000"},
			Config{Region: DefaultRegion, Endpoint: "http://localhost:9000", PathStyle: true}},
		{"prefix normalised", Config{Bucket: "b", Prefix: "/data/2024"}, Config{Region: DefaultRegion, Prefix: "data/2024/"}},
		{"prefix slash kept", Config{Bucket: "b", Prefix: "data/"}, Config{Region: DefaultRegion, Prefix: "data/"}},
	}
	for _, c := range cases {
		got, err := ApplyPreset(c.in)
		if err != nil {
			t.Errorf("%s: ApplyPreset: %v", c.name, err)
			continue
		}
		if got.Endpoint != c.want.Endpoint || got.Region != c.want.Region || got.PathStyle != c.want.PathStyle || got.Prefix != c.want.Prefix {
			t.Errorf("%s: got endpoint %q region %q path-style %t prefix %q; want %q %q %t %q", c.name,
				got.Endpoint, got.Region, got.PathStyle, got.Prefix, c.want.Endpoint, c.want.Region, c.want.PathStyle, c.want.Prefix)
		}
		again, err := ApplyPreset(got)
		if err != nil || fmt.Sprint(again) != fmt.Sprint(got) {
			t.Errorf("%s: ApplyPreset not idempotent: %v then %v (%v)", c.name, got, again, err)
		}
	}
}

func TestApplyPreset_Errors(t *testing.T) {
	const secret = "SECRET-never-shown"
	cases := []struct {
		in      Config
		wantMsg string
	}{
		{Config{}, "bucket is empty"},
		{Config{Provider: "oss", Bucket: "b"}, "needs a region"},
		{Config{Provider: "cos", Bucket: "b"}, "needs a region"},
		{Config{Provider: "kodo", Bucket: "b"}, "needs a region"},
		{Config{Provider: "minio", Bucket: "b", SecretKey: secret, AccessKey: "ak"}, "needs an endpoint"},
		{Config{Provider: "gcs", Bucket: "b"}, "unknown provider"},
		{Config{Bucket: "b", SecretKey: secret}, "set together"},
		{Config{Bucket: "b", AccessKey: "ak"}, "set together"},
		{Config{Bucket: "b", SessionToken: secret}, "session token"},
		{Config{Bucket: "b", Endpoint: "ftp://host"}, "invalid endpoint"},
		{Config{Bucket: "b", Endpoint: "https://user:" + secret + "@host"}, "must not carry credentials"},
	}
	for _, c := range cases {
		_, err := ApplyPreset(c.in)
		if err == nil || !strings.Contains(err.Error(), c.wantMsg) {
			t.Errorf("ApplyPreset(%v): err = %v, want one containing %q", c.in, err, c.wantMsg)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("ApplyPreset error shows a secret: %v", err)
		}
	}
}

func TestConfig_String(t *testing.T) {
	c := Config{Bucket: "b", AccessKey: "AKIAEXAMPLE", SecretKey: "wJalrSECRET", SessionToken: "TOKEN123"}
	for _, s := range []string{c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		for _, secret := range []string{"AKIAEXAMPLE", "wJalrSECRET", "TOKEN123"} {
			if strings.Contains(s, secret) {
				t.Errorf("formatted config %q shows %q", s, secret)
			}
		}
		if !strings.Contains(s, `"b"`) {
			t.Errorf("formatted config %q lacks the bucket", s)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	base := map[string]string{
		"AWS_ACCESS_KEY_ID": "plain-ak", "AWS_SECRET_ACCESS_KEY": "plain-sk", "AWS_SESSION_TOKEN": "plain-tok",
		"AWS_DEFAULT_REGION": "default-region", "AWS_ENDPOINT_URL": "http://generic:1",
	}
	got := ConfigFromEnv(env(base), "")
	if got.AccessKey != "plain-ak" || got.SecretKey != "plain-sk" || got.SessionToken != "plain-tok" ||
		got.Region != "default-region" || got.Endpoint != "http://generic:1" {
		t.Errorf("unprefixed: %+v (ak %q)", got, got.AccessKey)
	}

	m := map[string]string{"AWS_REGION": "region", "AWS_ENDPOINT_URL_S3": "http://s3-specific:2"}
	for k, v := range base {
		m[k] = v
	}
	got = ConfigFromEnv(env(m), "")
	if got.Region != "region" || got.Endpoint != "http://s3-specific:2" {
		t.Errorf("AWS_REGION and AWS_ENDPOINT_URL_S3 should win: region %q endpoint %q", got.Region, got.Endpoint)
	}

	// Prefixed credentials are taken as a group; region and endpoint fall
	// back one variable at a time; a prefixed generic endpoint beats an
	// unprefixed specific one.
	m["FERRY_SRC_AWS_ACCESS_KEY_ID"] = "src-ak"
	m["FERRY_SRC_AWS_SECRET_ACCESS_KEY"] = "src-sk"
	m["FERRY_SRC_AWS_ENDPOINT_URL"] = "http://src:3"
	got = ConfigFromEnv(env(m), "FERRY_SRC_")
	if got.AccessKey != "src-ak" || got.SecretKey != "src-sk" || got.SessionToken != "" {
		t.Errorf("prefixed credentials: ak %q sk set %t token %q; want src-ak, src-sk and no token", got.AccessKey, got.SecretKey == "src-sk", got.SessionToken)
	}
	if got.Region != "region" || got.Endpoint != "http://src:3" {
		t.Errorf("prefixed: region %q endpoint %q; want region and http://src:3", got.Region, got.Endpoint)
	}

	// A prefix with nothing set falls back to the plain variables.
	got = ConfigFromEnv(env(base), "FERRY_DST_")
	if got.AccessKey != "plain-ak" || got.Endpoint != "http://generic:1" {
		t.Errorf("empty prefix fallback: ak %q endpoint %q", got.AccessKey, got.Endpoint)
	}
}

func TestStartAfterFor(t *testing.T) {
	cases := map[string]string{
		"":          "",
		"a":         "",
		"many/f-01": "many/f-0",
		"ü":         "",
		"aü":        "a",
		"bad\xff":   "bad\U0010FFFF",
		"x\x80y":    "x",
		"\xff":      "\U0010FFFF",
	}
	for in, want := range cases {
		got := startAfterFor(in)
		if got != want {
			t.Errorf("startAfterFor(%q) = %q, want %q", in, got, want)
		}
		if in != "" && got >= in {
			t.Errorf("startAfterFor(%q) = %q is not below the start", in, got)
		}
	}
}
