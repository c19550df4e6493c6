package main

import "sync"

// parallel calls do for every item feed sends, workers calls at a time,
// and returns once feed has returned and every call has ended. send blocks
// until a worker takes the item.
func parallel[T any](workers int, feed func(send func(T)), do func(T)) {
	items := make(chan T)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for it := range items {
				do(it)
			}
		})
	}
	feed(func(it T) { items <- it })
	close(items)
	wg.Wait()
}
