package agent

import (
	"strings"
	"testing"
)

// TestValidateSpec_Drivers: the master parses a job's locations and checks
// its credential variables with the driver registry: an unknown scheme or
// a source-only destination is refused, as is a variable no driver reads.
func TestValidateSpec_Drivers(t *testing.T) {
	d := testDrivers(t)
	for _, c := range []struct {
		spec JobSpec
		want string
	}{
		{JobSpec{Source: "ftp://h/x", Dest: "/tmp/b"}, `source: parse location "ftp://h/x": unknown scheme "ftp"`},
		{JobSpec{Source: "/tmp/a", Dest: "gs://b/p"}, `destination: parse location "gs://b/p": unknown scheme "gs"`},
		{JobSpec{Source: "/tmp/a", Dest: "urllist:///l.txt"}, "destination: urllist:///l.txt: cannot be written to"},
		{JobSpec{Source: "/tmp/a", Dest: "/tmp/b", Credentials: map[string]string{"HOME": "/root"}}, `credentials: "HOME" is not a AWS_*, US3_*, AZURE_STORAGE_*, FERRY_SRC_* or FERRY_DST_* variable`},
	} {
		if err := validateSpec(d, &c.spec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("validateSpec(%+v) = %v, want %q", c.spec, err, c.want)
		}
	}
	ok := JobSpec{Source: "s3://src/p", Dest: "us3://dst/p", Credentials: map[string]string{
		"AWS_ACCESS_KEY_ID": "a", "FERRY_DST_US3_PRIVATE_KEY": "b", "FERRY_SRC_AWS_REGION": "c"}}
	if err := validateSpec(d, &ok); err != nil {
		t.Errorf("validateSpec(%+v) = %v", ok, err)
	}
}
