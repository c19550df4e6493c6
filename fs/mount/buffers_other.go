//go:build !linux

package mount

// newBuffer allocates a read-ahead buffer on the Go heap (see the Linux
// version for why Linux maps one).
func newBuffer(n int64) ([]byte, error) { return make([]byte, n), nil }

// freeBuffer leaves b to the garbage collector.
func freeBuffer(b []byte) {}
