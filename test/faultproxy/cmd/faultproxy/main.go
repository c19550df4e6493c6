// Command faultproxy runs a fault-injecting TCP proxy (package faultproxy)
// in front of one target:
//
//	faultproxy --target 127.0.0.1:9000 --seed 1 --reset 0.05 --stall 0.02 --cut 0.05
//
// Once listening it prints "faultproxy listening on ADDR" on stdout.
// SIGUSR1 starts an outage (Down), SIGUSR2 ends it (Up); SIGINT or SIGTERM
// close the proxy, which then prints its stats on stderr.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/ferry-project/ferry/internal/units"
	"github.com/ferry-project/ferry/test/faultproxy"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "faultproxy:", err)
		os.Exit(2)
	}
}

// run parses args, proxies until ctx is done, then closes the proxy and
// prints its stats.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	p, err := faultproxy.New(o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "faultproxy listening on %s\n", p.Addr())
	outage := make(chan os.Signal, 1)
	signal.Notify(outage, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(outage)
	for {
		select {
		case sig := <-outage:
			if sig == syscall.SIGUSR1 {
				p.Down()
			} else {
				p.Up()
			}
			fmt.Fprintf(stderr, "faultproxy: %v: %+v\n", sig, p.Stats())
		case <-ctx.Done():
			err := p.Close()
			fmt.Fprintf(stderr, "faultproxy: stats %+v\n", p.Stats())
			return err
		}
	}
}

// parseFlags turns the command line into proxy options.
func parseFlags(args []string, stderr io.Writer) (faultproxy.Options, error) {
	var o faultproxy.Options
	fs := flag.NewFlagSet("faultproxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Target, "target", "", "host:port to forward to (required)")
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:0", "listen address")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the fault sequence")
	fs.Float64Var(&o.Rates.Reset, "reset", 0, "fraction of connections reset (RST)")
	fs.Float64Var(&o.Rates.Stall, "stall", 0, "fraction of connections stalled")
	fs.Float64Var(&o.Rates.Cut, "cut", 0, "fraction of connections cut (clean close mid-stream)")
	dir := fs.String("direction", "either", "direction faults watch: either, up (client → target) or down")
	maxBytes := fs.String("max-bytes", "256KiB", "a fault fires after a random number of bytes up to this")
	fs.DurationVar(&o.StallFor, "stall-for", 0, "how long a stall lasts (default 2s)")
	fs.BoolVar(&o.StallClose, "stall-close", false, "close the connection at the end of a stall instead of resuming")
	fs.BoolVar(&o.PerExchange, "per-exchange", false, "draw a fault for every exchange (a new request on a kept-alive connection), not only per connection")
	fs.DurationVar(&o.DialTimeout, "dial-timeout", 0, "limit of the connection to the target (default 5s)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("parse flags: unexpected argument %q", fs.Arg(0))
	}
	var err error
	if o.Direction, err = faultproxy.ParseDirection(*dir); err != nil {
		return o, err
	}
	if o.MaxBytes, err = units.ParseSize(*maxBytes); err != nil {
		return o, fmt.Errorf("parse --max-bytes: %w", err)
	}
	return o, nil
}
