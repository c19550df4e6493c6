package check

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/ferry-project/ferry/fs"
)

// Kind is the outcome of checking one key.
type Kind int

// The outcomes, in the order a summary prints them. A Step that compares
// more (metadata, storage class) adds its Kind here, before numKinds, with
// its name in kindNames; Counts grows with it.
const (
	Same     Kind = iota // present on both sides, nothing found different
	Missing              // at the source, not at the destination
	Extra                // at the destination, not at the source
	Size                 // both sides, sizes differ
	Checksum             // both sides, comparable checksums differ
	Bytes                // both sides, same size, the bytes read differ (Download)
	Error                // could not be compared (a read failed)
	numKinds
)

var kindNames = [numKinds]string{"same", "missing", "extra", "size", "checksum", "bytes", "error"}

// String is the kind's name as difference files show it.
func (k Kind) String() string {
	if k >= 0 && k < numKinds {
		return kindNames[k]
	}
	return "kind " + strconv.Itoa(int(k))
}

// Difference is one key found different (or not comparable): Kind says
// how, Detail says what each side holds.
type Difference struct {
	Key    string
	Kind   Kind
	Detail string
	Src    *fs.Entry // nil when missing at the source (Extra)
	Dst    *fs.Entry // nil when missing at the destination (Missing)
}

// Step compares one aspect of an object present on both sides, from what
// the listings carry. It returns a difference kind and a detail, or Same
// when the aspect is equal or cannot be compared on this pair. Steps run
// in order; the first difference found decides the object's Kind. The
// metadata comparison is a Step added to Options.Steps.
type Step interface {
	Compare(ctx context.Context, src, dst Object) (Kind, string, error)
}

// StepFunc adapts a function to Step.
type StepFunc func(ctx context.Context, src, dst Object) (Kind, string, error)

// Compare calls f.
func (f StepFunc) Compare(ctx context.Context, src, dst Object) (Kind, string, error) {
	return f(ctx, src, dst)
}

// Object is one side's entry and the Tree it was listed from (for a Step
// that asks its store for more, such as an fs.Hasher's checksum).
type Object struct {
	fs.Entry
	Tree fs.Tree
}

// DefaultSteps are the comparisons of what fs.Entry carries: size, then
// checksum.
func DefaultSteps() []Step {
	return []Step{StepFunc(CompareSize), StepFunc(CompareChecksum)}
}

// CompareSize finds objects whose sizes differ.
func CompareSize(_ context.Context, src, dst Object) (Kind, string, error) {
	if src.Size != dst.Size {
		return Size, "size " + strconv.FormatInt(src.Size, 10) + " ≠ " + strconv.FormatInt(dst.Size, 10), nil
	}
	return Same, "", nil
}

// CompareChecksum compares the checksums both sides already know, when
// they are comparable: two ETags of one algorithm over the whole object
// (equal length, neither a multipart "-N" form, which depends on the part
// size and is never taken for an MD5), or an fs.Hasher's MD5 against an
// MD5-like ETag of the other side. Anything else is not compared.
func CompareChecksum(ctx context.Context, src, dst Object) (Kind, string, error) {
	a, b := src.ETag, dst.ETag
	if wholeETag(a) && wholeETag(b) && len(a) == len(b) {
		return sums("etag", a, b)
	}
	sa, sb := etagMD5(a), etagMD5(b)
	var err error
	switch {
	case sa != "" && sb == "":
		sb, err = hasherMD5(ctx, dst)
	case sa == "" && sb != "":
		sa, err = hasherMD5(ctx, src)
	}
	if err != nil {
		return Error, "", err
	}
	if sa != "" && sb != "" {
		return sums("md5", sa, sb)
	}
	return Same, "", nil
}

func sums(algo, a, b string) (Kind, string, error) {
	if strings.EqualFold(a, b) {
		return Same, "", nil
	}
	return Checksum, algo + " " + a + " ≠ " + b, nil
}

// md5Hex matches an MD5 in hex: a single-part S3 ETag.
var md5Hex = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)

// wholeETag reports whether an ETag is a checksum of the whole object in
// one algorithm (not empty, not a multipart "-N" form).
func wholeETag(etag string) bool {
	return etag != "" && !strings.Contains(etag, "-")
}

// etagMD5 is an MD5-like ETag in lower case, else "".
func etagMD5(etag string) string {
	if md5Hex.MatchString(etag) {
		return strings.ToLower(etag)
	}
	return ""
}

// hasherMD5 is the MD5 the side's tree knows through fs.Hasher, else "".
// It is asked only when the other side has an MD5 to compare with, since
// a Hasher may cost a request.
func hasherMD5(ctx context.Context, o Object) (string, error) {
	h, ok := o.Tree.(fs.Hasher)
	if !ok {
		return "", nil
	}
	algo, sum, err := h.Checksum(ctx, o.Path)
	if err != nil {
		return "", fmt.Errorf("read checksum of %q: %w", o.Path, err)
	}
	if algo != "md5" {
		return "", nil
	}
	return strings.ToLower(sum), nil
}
