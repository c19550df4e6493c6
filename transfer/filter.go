package transfer

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// Filter selects paths by glob patterns. A pattern without '/' matches the
// base name anywhere in the tree ("*.log"); one with '/' matches the whole
// path ("logs/2024/**"). '*' and '?' never cross '/', '**' does, and
// "[...]" is a character class. A path is selected when it matches some
// Include pattern (or there are none) and no Exclude pattern.
type Filter struct {
	include, exclude []*regexp.Regexp
	incBase, excBase []bool
}

// NewFilter compiles the patterns; a malformed pattern is an error.
func NewFilter(include, exclude []string) (*Filter, error) {
	f := &Filter{}
	var err error
	if f.include, f.incBase, err = compileGlobs(include); err != nil {
		return nil, err
	}
	if f.exclude, f.excBase, err = compileGlobs(exclude); err != nil {
		return nil, err
	}
	return f, nil
}

// Match reports whether p is selected.
func (f *Filter) Match(p string) bool {
	if f == nil {
		return true
	}
	if anyMatch(f.exclude, f.excBase, p) {
		return false
	}
	return len(f.include) == 0 || anyMatch(f.include, f.incBase, p)
}

func anyMatch(res []*regexp.Regexp, base []bool, p string) bool {
	for i, re := range res {
		s := p
		if base[i] {
			s = path.Base(p)
		}
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

func compileGlobs(pats []string) ([]*regexp.Regexp, []bool, error) {
	var res []*regexp.Regexp
	var base []bool
	for _, p := range pats {
		if p == "" {
			continue
		}
		re, err := globToRegexp(strings.TrimPrefix(p, "/"))
		if err != nil {
			return nil, nil, fmt.Errorf("parse pattern %q: %w", p, err)
		}
		res = append(res, re)
		base = append(base, !strings.Contains(p, "/"))
	}
	return res, base, nil
}

func globToRegexp(g string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(g); i++ {
		switch c := g[i]; c {
		case '*':
			if i+1 < len(g) && g[i+1] == '*' {
				i++
				if i+1 < len(g) && g[i+1] == '/' {
					i++
					b.WriteString("(?:.*/)?")
				} else {
					b.WriteString(".*")
				}
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '[':
			j := strings.IndexByte(g[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unclosed '['")
			}
			class := g[i+1 : i+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += j
		case '\\':
			if i+1 < len(g) {
				i++
				b.WriteString(regexp.QuoteMeta(string(g[i])))
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}
