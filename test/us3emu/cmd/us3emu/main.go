// Command us3emu runs the US3 emulator (package us3emu) as a server:
//
//	us3emu --addr 127.0.0.1:9000 --root DIR --public-key P --private-key K --bucket NAME
//
// --bucket may repeat or hold a comma-separated list; the first is the
// default bucket. Keys fall back to US3_PUBLIC_KEY / US3_PRIVATE_KEY. Once
// listening it prints "us3emu listening on http://ADDR" on stdout; SIGINT or
// SIGTERM shut it down cleanly. See the package doc for the admin API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ferry-project/ferry/test/us3emu"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "us3emu:", err)
		os.Exit(1)
	}
}

// bucketList is a repeatable, comma-splitting flag.
type bucketList []string

func (b *bucketList) String() string { return strings.Join(*b, ",") }

func (b *bucketList) Set(v string) error {
	for _, name := range strings.Split(v, ",") {
		if name = strings.TrimSpace(name); name != "" {
			*b = append(*b, name)
		}
	}
	return nil
}

// run parses args, serves until ctx is done, then shuts down.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("us3emu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	root := fs.String("root", "", "data directory (required)")
	pub := fs.String("public-key", "", "public key (default $US3_PUBLIC_KEY)")
	priv := fs.String("private-key", "", "private key (default $US3_PRIVATE_KEY)")
	var buckets bucketList
	fs.Var(&buckets, "bucket", "bucket name; repeatable or comma-separated; the first is the default")
	blk := fs.Int64("blk-size", us3emu.DefaultBlkSize, "multipart block size in bytes")
	errRate := fs.Float64("error-rate", 0, "fraction of requests answered 500/503")
	dropRate := fs.Float64("drop-rate", 0, "fraction of requests whose connection is dropped")
	latency := fs.Duration("latency", 0, "latency added to every request")
	verbose := fs.Bool("verbose", false, "log every request")
	restoreDelay := fs.Duration("restore-delay", us3emu.DefaultRestoreDelay, "how long a restore of an ARCHIVE object takes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pub == "" {
		*pub = os.Getenv("US3_PUBLIC_KEY")
	}
	if *priv == "" {
		*priv = os.Getenv("US3_PRIVATE_KEY")
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	srv, err := us3emu.New(us3emu.Options{
		Root: *root, PublicKey: *pub, PrivateKey: *priv, Buckets: buckets, BlkSize: *blk,
		Faults: us3emu.Faults{ErrorRate: *errRate, DropRate: *dropRate, Latency: *latency},
		Logger: logger, RestoreDelay: *restoreDelay,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: time.Minute}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	fmt.Fprintf(stdout, "us3emu listening on http://%s\n", ln.Addr())
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shut down: %w", err)
	}
	logger.Info("us3emu stopped")
	return nil
}
