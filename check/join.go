// Package check verifies a copy without any catalog: it lists a source and
// a destination Tree in key order, joins the two listings and compares
// every object present on both sides (size, a comparable checksum, and
// with Download their bytes). It imports only fs; the command wires the
// drivers, filters and output.
package check

import (
	"context"
	"fmt"

	"github.com/ferry-project/ferry/fs"
)

// joinWindow is how many destination entries are read ahead of the source
// walk: the join's memory is bounded by it, whatever the object count.
const joinWindow = 256

// Join walks src and dst over r at the same time, both in byte order of
// fs.Entry.ObjectKey as Tree.Walk promises, and calls fn once per key seen
// on either side, in key order: with both entries when the key is on both
// sides, else with the one side's entry and nil for the other. Nothing is
// held but one source entry and a window of destination entries. An error
// from fn or from either walk stops the join and is returned.
func Join(ctx context.Context, src, dst fs.Tree, r fs.Range, fn func(s, d *fs.Entry) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dch := make(chan fs.Entry, joinWindow)
	derr := make(chan error, 1)
	go func() {
		defer close(dch)
		derr <- dst.Walk(ctx, r, func(e fs.Entry) error {
			select {
			case dch <- e:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var cur fs.Entry
	var have bool
	last := ""
	// recv takes the next destination entry; at the end of the listing it
	// takes the walk's result (sent before the channel closes), so that a
	// failed listing is never read as a destination that ends early.
	recv := func() error {
		if cur, have = <-dch; !have {
			if err := <-derr; err != nil {
				return fmt.Errorf("walk destination: %w", err)
			}
		}
		return nil
	}
	next := func() error {
		k := cur.ObjectKey()
		if err := recv(); err != nil {
			return err
		}
		if have && cur.ObjectKey() <= k {
			return fmt.Errorf("list destination: key %q after %q: the listing is not in key order", cur.ObjectKey(), k)
		}
		return nil
	}
	if err := recv(); err != nil {
		return err
	}
	err := src.Walk(ctx, r, func(e fs.Entry) error {
		key := e.ObjectKey()
		if last != "" && key <= last {
			return fmt.Errorf("list source: key %q after %q: the listing is not in key order", key, last)
		}
		last = key
		for have && cur.ObjectKey() < key {
			d := cur
			if err := fn(nil, &d); err != nil {
				return err
			}
			if err := next(); err != nil {
				return err
			}
		}
		if have && cur.ObjectKey() == key {
			d := cur
			if err := next(); err != nil {
				return err
			}
			return fn(&e, &d)
		}
		return fn(&e, nil)
	})
	for err == nil && have {
		d := cur
		if err = fn(nil, &d); err == nil {
			err = next()
		}
	}
	cancel()
	for range dch { // let the destination walk end
	}
	return err
}
