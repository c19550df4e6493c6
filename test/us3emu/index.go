package us3emu

import (
	"sort"
	"strings"
)

// listPage is one page of a bucket listing.
type listPage struct {
	Objects   []object
	Prefixes  []string // common prefixes (delimiter listings only)
	Truncated bool     // more entries follow
	Next      string   // last key or common prefix returned, when Truncated
}

// list returns up to max entries (objects plus common prefixes) whose keys
// start with prefix and sort strictly after marker, in byte order. With a
// delimiter, keys holding it after the prefix roll up into one common
// prefix each, and a common prefix not after marker is skipped whole, so
// paging with Next as the marker never repeats an entry.
func (b *bucket) list(prefix, marker, delim string, max int) listPage {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var p listPage
	i := sort.SearchStrings(b.keys, prefix)
	if marker >= prefix {
		i = sort.Search(len(b.keys), func(j int) bool { return b.keys[j] > marker })
	}
	count := 0
	for i < len(b.keys) && strings.HasPrefix(b.keys[i], prefix) {
		k := b.keys[i]
		if delim != "" {
			if j := strings.Index(k[len(prefix):], delim); j >= 0 {
				cp := k[:len(prefix)+j+len(delim)]
				next := b.after(cp)
				if cp <= marker {
					i = next
					continue
				}
				if count == max {
					p.Truncated = true
					break
				}
				p.Prefixes = append(p.Prefixes, cp)
				p.Next = cp
				count++
				i = next
				continue
			}
		}
		if count == max {
			p.Truncated = true
			break
		}
		p.Objects = append(p.Objects, *b.objs[k])
		p.Next = k
		count++
		i++
	}
	if !p.Truncated {
		p.Next = ""
	}
	return p
}

// after returns the index of the first key that does not start with cp.
// Callers hold b.mu.
func (b *bucket) after(cp string) int {
	succ, ok := prefixSuccessor(cp)
	if !ok {
		return len(b.keys)
	}
	return sort.SearchStrings(b.keys, succ)
}

// prefixSuccessor returns the least string greater than every string that
// starts with p; ok is false when there is none (p is all 0xff bytes).
func prefixSuccessor(p string) (string, bool) {
	b := []byte(p)
	for len(b) > 0 && b[len(b)-1] == 0xff {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "", false
	}
	b[len(b)-1]++
	return string(b), true
}
