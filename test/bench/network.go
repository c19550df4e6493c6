package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ferry-project/ferry/internal/units"
	"github.com/ferry-project/ferry/test/reqcount"
)

// profile is the network between the tools and the servers.
type profile struct {
	name string
	rtt  time.Duration // round-trip time added (half each way)
	cap  int64         // bandwidth cap in bytes/s (0: none)
}

// parseProfiles parses -profiles: loopback (the direct rows of the first
// table), 20ms, 80ms (any "<duration>" of added RTT) and cap (the
// -cap bandwidth cap).
func parseProfiles(list string, capBytes int64) ([]profile, error) {
	var ps []profile
	for _, f := range strings.Split(list, ",") {
		switch f = strings.TrimSpace(f); f {
		case "":
		case "loopback":
			ps = append(ps, profile{name: f})
		case "cap":
			ps = append(ps, profile{name: fmt.Sprintf("cap %s/s", units.Bytes(capBytes)), cap: capBytes})
		default:
			d, err := time.ParseDuration(f)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("-profiles: %q is not loopback, cap or a round-trip time such as 20ms", f)
			}
			ps = append(ps, profile{name: f + " RTT", rtt: d})
		}
	}
	return ps, nil
}

// loopback reports whether p is the direct loopback profile.
func (p profile) loopback() bool { return p.rtt == 0 && p.cap == 0 }

// netLink is Toxiproxy in front of MinIO, twice (a source and a
// destination side), each side behind it through a counting proxy:
// tool → Toxiproxy → reqcount → MinIO.
type netLink struct {
	toxi               *toxi
	srcCount, dstCount *reqcount.Proxy
	src, dst           string // the Toxiproxy listen addresses
}

// startNet starts Toxiproxy (binary bin) and the counting proxies.
func (s *servers) startNet(ctx context.Context, bin string) (*netLink, error) {
	t, err := startToxi(ctx, bin)
	if err != nil {
		return nil, err
	}
	n := &netLink{toxi: t}
	for _, side := range []struct {
		name  string
		count **reqcount.Proxy
		addr  *string
	}{{"minio-src", &n.srcCount, &n.src}, {"minio-dst", &n.dstCount, &n.dst}} {
		p, err := reqcount.Start(s.minio.Endpoint)
		if err != nil {
			n.stop()
			return nil, err
		}
		*side.count = p
		if *side.addr, err = t.proxy(ctx, side.name, strings.TrimPrefix(p.URL(), "http://")); err != nil {
			n.stop()
			return nil, err
		}
	}
	return n, nil
}

// stop ends Toxiproxy and the counting proxies.
func (n *netLink) stop() {
	n.toxi.stop()
	for _, p := range []*reqcount.Proxy{n.srcCount, n.dstCount} {
		if p != nil {
			_ = p.Close()
		}
	}
}

// apply sets both sides to profile p: Toxiproxy's latency toxics (half
// the RTT each way) and the counting proxy's cap on all connections
// together, each way. (Toxiproxy's own bandwidth toxic limits each
// connection, not the link: it is not used.)
func (n *netLink) apply(ctx context.Context, p profile) error {
	var ts []toxic
	if p.rtt > 0 {
		half := p.rtt.Milliseconds() / 2
		for _, st := range []string{"upstream", "downstream"} {
			ts = append(ts, toxic{Name: "latency-" + st, Type: "latency", Stream: st, Toxicity: 1,
				Attributes: map[string]int64{"latency": half}})
		}
	}
	for _, name := range []string{"minio-src", "minio-dst"} {
		if err := n.toxi.setToxics(ctx, name, ts); err != nil {
			return fmt.Errorf("apply profile %s: %w", p.name, err)
		}
	}
	n.srcCount.SetRate(p.cap)
	n.dstCount.SetRate(p.cap)
	return nil
}

// env is the tools' environment over the link: Ferry's source and
// destination S3 endpoints (FERRY_SRC_/FERRY_DST_) and the rclone remotes
// netsrc and netdst.
func (n *netLink) env(s *servers) []string {
	env := s.env()
	for _, side := range []struct{ ferry, rclone, addr string }{
		{"FERRY_SRC_", "NETSRC", n.src}, {"FERRY_DST_", "NETDST", n.dst}} {
		ep := "http://" + side.addr
		env = append(env,
			side.ferry+"AWS_ACCESS_KEY_ID="+s.minio.AccessKey, side.ferry+"AWS_SECRET_ACCESS_KEY="+s.minio.SecretKey,
			side.ferry+"AWS_ENDPOINT_URL="+ep, side.ferry+"AWS_REGION="+s.minio.Region,
			"RCLONE_CONFIG_"+side.rclone+"_TYPE=s3", "RCLONE_CONFIG_"+side.rclone+"_PROVIDER=Minio",
			"RCLONE_CONFIG_"+side.rclone+"_ACCESS_KEY_ID="+s.minio.AccessKey,
			"RCLONE_CONFIG_"+side.rclone+"_SECRET_ACCESS_KEY="+s.minio.SecretKey,
			"RCLONE_CONFIG_"+side.rclone+"_ENDPOINT="+ep, "RCLONE_CONFIG_"+side.rclone+"_REGION="+s.minio.Region)
	}
	return env
}

// netInfo is what a row over the link needs beside the measurements.
type netInfo struct {
	profile  profile
	inflight int // requests the tool keeps in flight (small objects)
}

// netGroups are the rows of profile p: small S3 → S3 and large local →
// S3, Ferry beside rclone at its defaults and at Ferry's in-flight count.
func (s *servers) netGroups(n *netLink, p profile, w workloads, seedSmall func(context.Context) error) []group {
	small := fmt.Sprintf("%s: S3 → S3, %d × %s", p.name, w.small, units.Bytes(int64(s.c.smallSize)))
	large := fmt.Sprintf("%s: local → S3, %d × %s", p.name, w.large, units.Bytes(w.largeSize))
	tag := slug(p.name)
	wk := s.c.workers
	ferryArgs := func(from string, to target) func(i int, cat string) []string {
		return func(i int, cat string) []string {
			return []string{s.c.ferry, "migrate", "run", "--from", from, "--to", to.uri(i), "--catalog", cat,
				"--workers", fmt.Sprint(wk), "--progress", "none"}
		}
	}
	rcloneArgs := func(from string, to target, equal bool) func(i int, _ string) []string {
		return func(i int, _ string) []string {
			a := []string{s.c.rclone, "copy", from, "netdst:bench/" + to.prefix(i), "--no-check-dest", "--s3-no-check-bucket"}
			if equal {
				w := fmt.Sprint(wk)
				a = append(a, "--transfers", w, "--checkers", w, "--s3-upload-concurrency", w, "--s3-chunk-size", "8M")
			}
			return a
		}
	}
	var groups []group
	for _, wl := range []struct {
		name, ferryFrom, rcloneFrom string
		n                           int
		bytes                       int64
		setup                       func(context.Context) error
	}{
		{small, "s3://bench/" + srcSmall, "netsrc:bench/" + srcSmall, w.small, w.smallBytes, seedSmall},
		{large, w.largeDir, w.largeDir, w.large, int64(w.large) * w.largeSize, nil},
	} {
		base := slug(wl.name)
		cs := []*contender{
			s.netRun(n, p, wl.name, fmt.Sprintf("ferry migrate (--workers %d, its default 16)", wk), wk, target{"s3", "net-ferry-" + tag + base}, wl.n, wl.bytes, ferryArgs(wl.ferryFrom, target{"s3", "net-ferry-" + tag + base}), false),
			s.netRun(n, p, wl.name, "rclone copy (defaults: 4 transfers, 8 checkers)", 4, target{"s3", "net-rcd-" + tag + base}, wl.n, wl.bytes, rcloneArgs(wl.rcloneFrom, target{"s3", "net-rcd-" + tag + base}, false), true),
			s.netRun(n, p, wl.name, fmt.Sprintf("rclone copy (%d transfers)", wk), wk, target{"s3", "net-rce-" + tag + base}, wl.n, wl.bytes, rcloneArgs(wl.rcloneFrom, target{"s3", "net-rce-" + tag + base}, true), true),
		}
		if wl.name == large {
			cs = append(cs, s.netIngest(n, p, wl.name, target{"s3", "net-ingest-" + tag + base}, wl.n, wl.bytes))
		}
		groups = append(groups, group{setup: applyProfile(n, p, wl.setup), contenders: cs})
	}
	return groups
}

// netRun is a row over the link: argv(i, catalog) run with the link's
// environment, its requests counted at both counting proxies.
func (s *servers) netRun(n *netLink, p profile, workload, tool string, inflight int, to target, objects int, bytes int64, argv func(i int, catalog string) []string, rclone bool) *contender {
	c := &contender{workload: workload, tool: tool, objects: objects, bytes: bytes, servers: []*serverProc{s.minioProc},
		net: &netInfo{profile: p, inflight: inflight}}
	if rclone && s.c.rclone == "" {
		c.skip = "rclone not installed (make bench installs it with go install)"
		return c
	}
	catalog := func(i int) string { return fmt.Sprintf("%s/catalog-%s-r%d.db", s.c.work, to.base, i) }
	c.run = func(ctx context.Context, i int, sw *stopwatch) (int64, error) {
		n.srcCount.Reset()
		n.dstCount.Reset()
		rss, err := s.timedEnv(ctx, sw, n.env(s), argv(i, catalog(i))...)
		sw.requests = n.srcCount.Total() + n.dstCount.Total()
		return rss, err
	}
	c.cleanup = func(ctx context.Context, i int) error {
		removeCatalog(catalog(i))
		return s.deletePrefix(ctx, to.store, to.prefix(i))
	}
	return c
}

// ingestTool names the ingest limit row of a large workload over the link.
const ingestTool = "ingest limit (Ferry's Sink, from memory)"

// netIngest uploads n objects of bytes/n from memory through the link
// with Ferry's own S3 Sink, -workers at a time: what the destination
// accepts over this network (the large rows' limit when there is no cap).
func (s *servers) netIngest(n *netLink, p profile, workload string, to target, objects int, total int64) *contender {
	c := s.ingest(workload, ingestTool, to, objects, total)
	c.net = &netInfo{profile: p, inflight: s.c.workers}
	c.run = func(ctx context.Context, i int, sw *stopwatch) (int64, error) {
		sink, err := s.minioStoreAt(ctx, "http://"+n.dst, to.prefix(i))
		if err != nil {
			return 0, fmt.Errorf("open sink over the link: %w", err)
		}
		data := s.randomBytes(total / int64(max(objects, 1)))
		body := bytes.NewReader(data)
		n.srcCount.Reset()
		n.dstCount.Reset()
		sw.start()
		err = uploadAll(ctx, sink, s.c.workers, objects, func(k int) (string, io.ReaderAt, int64, error) {
			return fmt.Sprintf("obj-%06d", k), body, int64(len(data)), nil
		})
		sw.stop()
		sw.requests = n.srcCount.Total() + n.dstCount.Total()
		return 0, err
	}
	return c
}

// applyProfile is the setup of a profile's group: the profile's toxics,
// then next (when not nil).
func applyProfile(n *netLink, p profile, next func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		fmt.Fprintf(os.Stderr, "network profile %s\n", p.name)
		if err := n.apply(ctx, p); err != nil {
			return err
		}
		if next != nil {
			return next(ctx)
		}
		return nil
	}
}
