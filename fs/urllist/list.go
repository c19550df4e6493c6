package urllist

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// TSVHeader is the first line of a list in Google Storage Transfer Service's
// URL list format: then one "URL<TAB>size<TAB>base64-MD5" line per object.
const TSVHeader = "TsvHttpData-1.0"

// maxLine is the longest list line accepted.
const maxLine = 1 << 20

// record is one parsed list line.
type record struct {
	line int    // 1-based line number in the list file
	url  string // the URL exactly as listed
	size int64  // listed size, -1 when the list does not give one
	md5  string // listed MD5 as lowercase hex, "" when not given
}

// listReader streams the records of a list file.
//
// Plain lists hold one URL per line. TSV lists start with TSVHeader; each
// line then holds a URL, optionally followed by a tab and the size in bytes
// and another tab and the base64 MD5 (an empty MD5 field is allowed). In
// both forms blank lines and lines starting with '#' are ignored and
// surrounding spaces and a trailing '\r' are trimmed.
type listReader struct {
	sc      *bufio.Scanner
	tsv     bool
	line    int
	pending *string // the first line of a plain list, read while sniffing
}

// newListReader reads the first line of r to tell the two formats apart.
func newListReader(r io.Reader) (*listReader, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	l := &listReader{sc: sc}
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read list line 1: %w", err)
		}
		return l, nil // empty list
	}
	l.line = 1
	first := strings.TrimPrefix(sc.Text(), "\ufeff")
	if strings.TrimSpace(first) == TSVHeader {
		l.tsv = true
	} else {
		l.pending = &first
	}
	return l, nil
}

// next returns the next record, or io.EOF after the last one. A malformed
// line gives an error naming its line number.
func (l *listReader) next() (record, error) {
	for {
		var text string
		if l.pending != nil {
			text, l.pending = *l.pending, nil
		} else {
			if !l.sc.Scan() {
				if err := l.sc.Err(); err != nil {
					return record{}, fmt.Errorf("read list line %d: %w", l.line+1, err)
				}
				return record{}, io.EOF
			}
			l.line++
			text = l.sc.Text()
		}
		if t := strings.TrimSpace(text); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		rec, err := l.parse(text)
		if err != nil {
			return record{}, fmt.Errorf("list line %d: %w", l.line, err)
		}
		return rec, nil
	}
}

// parse parses one non-blank, non-comment line.
func (l *listReader) parse(text string) (record, error) {
	rec := record{line: l.line, size: -1}
	if !l.tsv {
		text = strings.TrimSpace(text)
		if strings.ContainsAny(text, " \t") {
			return rec, errors.New("a plain list holds one URL per line (spaces must be percent-encoded; a TSV list starts with " + TSVHeader + ")")
		}
		rec.url = text
		return rec, nil
	}
	fields := strings.Split(strings.TrimRight(text, " \t\r"), "\t")
	if len(fields) > 3 {
		return rec, fmt.Errorf("%d tab-separated fields, want URL<TAB>size<TAB>base64-MD5", len(fields))
	}
	rec.url = strings.TrimSpace(fields[0])
	if rec.url == "" {
		return rec, errors.New("empty URL field")
	}
	if len(fields) > 1 {
		s := strings.TrimSpace(fields[1])
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return rec, fmt.Errorf("size %q is not a non-negative integer", s)
		}
		rec.size = n
	}
	if len(fields) > 2 {
		s := strings.TrimSpace(fields[2])
		if s != "" {
			sum, err := base64.StdEncoding.DecodeString(s)
			if err != nil || len(sum) != 16 {
				return rec, fmt.Errorf("MD5 %q is not a base64-encoded 16-byte digest", s)
			}
			rec.md5 = hex.EncodeToString(sum)
		}
	}
	return rec, nil
}
