package main

import (
	"reflect"
	"testing"
)

func TestPermuteArgs(t *testing.T) {
	cmds := commands(&env{})
	for _, c := range []struct{ in, want []string }{
		{[]string{"ferry", "catalog", "ls", "c.db", "--limit", "3", "--format=csv"}, []string{"ferry", "catalog", "ls", "--limit", "3", "--format=csv", "c.db"}},
		{[]string{"ferry", "ls", "/x", "-R", "--json"}, []string{"ferry", "ls", "-R", "--json", "/x"}},
		{[]string{"ferry", "catalog", "ls", "--", "-odd.db"}, []string{"ferry", "catalog", "ls", "--", "-odd.db"}},
		{[]string{"ferry", "--help"}, []string{"ferry", "--help"}},
	} {
		if got := permuteArgs(cmds, c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("permuteArgs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
