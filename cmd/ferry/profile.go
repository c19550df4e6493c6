package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles writes a CPU profile to $FERRY_CPUPROFILE and a heap
// profile to $FERRY_MEMPROFILE (both optional) for performance work; the
// returned function finishes them.
func startProfiles(getenv func(string) string) func() {
	var stops []func()
	if p := getenv("FERRY_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			if err := pprof.StartCPUProfile(f); err == nil {
				stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
			}
		} else {
			fmt.Fprintf(os.Stderr, "ferry: cpu profile: %v\n", err)
		}
	}
	if p := getenv("FERRY_MEMPROFILE"); p != "" {
		stops = append(stops, func() {
			f, err := os.Create(p)
			if err != nil {
				return
			}
			defer f.Close()
			runtime.GC()
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
		})
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
