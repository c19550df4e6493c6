package check

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// DiffWriter writes differences to a file, one per record, as CSV (with a
// header line) or JSON Lines.
type DiffWriter struct {
	csv  *csv.Writer
	json *json.Encoder
}

// diffColumns are the CSV header and the JSON field names.
var diffColumns = []string{"key", "kind", "detail", "src_size", "dst_size", "src_etag", "dst_etag"}

// diffRecord is a Difference as a JSON line.
type diffRecord struct {
	Key     string `json:"key"`
	Kind    string `json:"kind"`
	Detail  string `json:"detail,omitempty"`
	SrcSize *int64 `json:"src_size,omitempty"`
	DstSize *int64 `json:"dst_size,omitempty"`
	SrcETag string `json:"src_etag,omitempty"`
	DstETag string `json:"dst_etag,omitempty"`
}

// NewDiffWriter writes to w as JSON Lines when name ends in .json or
// .jsonl, else as CSV (whose header it writes at once).
func NewDiffWriter(w io.Writer, name string) (*DiffWriter, error) {
	n := strings.ToLower(name)
	if strings.HasSuffix(n, ".json") || strings.HasSuffix(n, ".jsonl") {
		e := json.NewEncoder(w)
		e.SetEscapeHTML(false)
		return &DiffWriter{json: e}, nil
	}
	c := csv.NewWriter(w)
	if err := c.Write(diffColumns); err != nil {
		return nil, fmt.Errorf("write differences header: %w", err)
	}
	return &DiffWriter{csv: c}, nil
}

// Write writes one difference.
func (w *DiffWriter) Write(d Difference) error {
	r := diffRecord{Key: d.Key, Kind: d.Kind.String(), Detail: d.Detail}
	if d.Src != nil {
		r.SrcSize, r.SrcETag = &d.Src.Size, d.Src.ETag
	}
	if d.Dst != nil {
		r.DstSize, r.DstETag = &d.Dst.Size, d.Dst.ETag
	}
	if w.json != nil {
		if err := w.json.Encode(r); err != nil {
			return fmt.Errorf("write difference: %w", err)
		}
		return nil
	}
	size := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	if err := w.csv.Write([]string{r.Key, r.Kind, r.Detail, size(r.SrcSize), size(r.DstSize), r.SrcETag, r.DstETag}); err != nil {
		return fmt.Errorf("write difference: %w", err)
	}
	return nil
}

// Flush writes out what is buffered and returns the first write error.
func (w *DiffWriter) Flush() error {
	if w.csv == nil {
		return nil
	}
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		return fmt.Errorf("write differences: %w", err)
	}
	return nil
}
