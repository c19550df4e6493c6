// Command fetchbench measures the fetch endpoint through the real binaries
// on loopback: accepted POSTs per second (signature checks and durable
// catalog writes, no agent running) with p50/p99 latency from a load
// generator, then end-to-end throughput (POST to callback, through two
// agents into the US3 emulator) for many 64 KiB URLs and for one large URL.
//
//	go run ./agent/fetch/fetchbench -ferry bin/ferry -us3emu bin/us3emu
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
)

type config struct {
	ferry, us3emu string
	posts         int   // POSTs of the accept benchmark
	clients       int   // concurrent load generator clients
	small         int   // URLs of the end-to-end small-object run
	smallSize     int   // their size
	large         int64 // size of the one large URL (0: skip)
}

func main() {
	var c config
	flag.StringVar(&c.ferry, "ferry", "bin/ferry", "ferry binary")
	flag.StringVar(&c.us3emu, "us3emu", "bin/us3emu", "us3emu binary")
	flag.IntVar(&c.posts, "posts", 20000, "signed POSTs of the accept benchmark")
	flag.IntVar(&c.clients, "clients", 32, "concurrent load generator clients")
	flag.IntVar(&c.small, "small", 1000, "URLs of the end-to-end small-object run")
	flag.IntVar(&c.smallSize, "small-size", 64<<10, "size of each small object")
	flag.Int64Var(&c.large, "large", 1<<30, "size of the one large URL (0: skip)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "fetchbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	work, err := os.MkdirTemp("", "ferry-fetchbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	env, err := start(ctx, c, work)
	if err != nil {
		return err
	}
	defer env.stop()
	var lines []string
	say := func(s string) {
		fmt.Fprintln(os.Stderr, s)
		lines = append(lines, s)
	}
	acc, err := env.acceptBench(ctx, c.posts, c.clients)
	if err != nil {
		return fmt.Errorf("accept benchmark: %w", err)
	}
	say(acc)
	if err := env.startAgents(ctx, 2); err != nil {
		return err
	}
	small, err := env.endToEnd(ctx, c.small, c.smallSize, c.clients)
	if err != nil {
		return fmt.Errorf("small objects: %w", err)
	}
	say(small)
	if c.large > 0 {
		large, err := env.largeOne(ctx, c.large)
		if err != nil {
			return fmt.Errorf("large object: %w", err)
		}
		say(large)
	}
	fmt.Println("\nfetch endpoint (ferry master + 2 agents + us3emu on loopback)")
	for _, l := range lines {
		fmt.Println("  " + l)
	}
	return nil
}
