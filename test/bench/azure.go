package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ferry-project/ferry/internal/units"
	"github.com/ferry-project/ferry/test/azuritetest"
)

// azContainer is the container of every Azure row.
const azContainer = "bench"

// azure is Azurite (Microsoft's Azure Blob emulator) for the Azure rows,
// in memory on loopback, with container azContainer.
type azure struct {
	srv  *azuritetest.Server
	stop func()
	proc *serverProc
}

// startAzure starts Azurite; the rows note err when it cannot run.
func startAzure(ctx context.Context, dir string) (*azure, error) {
	srv, stop, err := azuritetest.Launch(dir)
	if err != nil {
		return nil, err
	}
	if _, err := srv.Client().CreateContainer(ctx, azContainer, nil); err != nil {
		stop()
		return nil, fmt.Errorf("create container %s: %w", azContainer, err)
	}
	a := &azure{srv: srv, stop: stop, proc: &serverProc{name: "azurite"}}
	// Azurite's command line holds nothing of its own: find it as the
	// node process whose working directory is dir.
	if pid, err := findPIDByCwd(dir); err == nil {
		a.proc.pid = pid
	} else {
		fmt.Fprintf(os.Stderr, "warning: %v: Azurite's CPU is not accounted\n", err)
	}
	return a, nil
}

// env is the environment that reaches Azurite: Ferry's azblob variables
// and the rclone remote "az" (its azureblob backend).
func (a *azure) env() []string {
	return []string{
		"AZURE_STORAGE_ACCOUNT=" + a.srv.Account, "AZURE_STORAGE_KEY=" + a.srv.Key,
		"AZURE_STORAGE_ENDPOINT=" + a.srv.Endpoint,
		"RCLONE_CONFIG_AZ_TYPE=azureblob", "RCLONE_CONFIG_AZ_ACCOUNT=" + a.srv.Account,
		"RCLONE_CONFIG_AZ_KEY=" + a.srv.Key, "RCLONE_CONFIG_AZ_ENDPOINT=" + a.srv.Endpoint,
	}
}

// uri is prefix of the bench container as Ferry names it.
func (a *azure) uri(prefix string) string {
	return "azblob://" + a.srv.Account + "/" + azContainer + "/" + prefix
}

// deletePrefix deletes every blob under prefix (Azurite keeps blobs in
// memory: a run's writes are freed before the next).
func (a *azure) deletePrefix(ctx context.Context, prefix string) error {
	c := a.srv.Client().NewContainerClient(azContainer)
	pager := c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &prefix})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, b := range page.Segment.BlobItems {
			if _, err := c.NewBlobClient(*b.Name).Delete(ctx, nil); err != nil {
				return fmt.Errorf("delete %s: %w", *b.Name, err)
			}
		}
	}
	return nil
}

// azureGroups are Azure Blob to and from a directory, small and large,
// Ferry beside rclone's azureblob backend against the same Azurite. The
// large workload is one object (Azurite holds everything in memory).
func (s *servers) azureGroups(ctx context.Context, w workloads) ([]group, func()) {
	dir, err := os.MkdirTemp(s.c.work, "azurite-")
	var a *azure
	if err == nil {
		a, err = startAzure(ctx, dir)
	}
	large := filepath.Join(s.c.work, "large-one")
	if err == nil {
		err = linkOne(w.largeDir, largeKey, large)
	}
	skip := ""
	if err != nil {
		skip = "Azurite not available: " + firstLine(err.Error())
	}
	obj := units.Bytes(w.largeSize) + " object"
	var groups []group
	for _, wl := range []struct {
		name, dir, slug string
		n               int
		bytes           int64
	}{
		{fmt.Sprintf("%d × %s", w.small, units.Bytes(int64(s.c.smallSize))), w.smallDir, "small", w.small, w.smallBytes},
		{obj, large, "large", 1, w.largeSize},
	} {
		src := "src-" + wl.slug + "/"
		in := "dir → Azure, " + wl.name
		out := "Azure → dir, " + wl.name
		seed := once(func(ctx context.Context) error {
			fmt.Fprintf(os.Stderr, "storing %s under %s on Azurite\n", wl.name, src)
			_, err := s.timedEnv(ctx, &stopwatch{}, s.azEnv(a), s.c.ferry, "migrate", "run", "--from", wl.dir,
				"--to", a.uri(src), "--catalog", filepath.Join(s.c.work, "seed-az-"+wl.slug+".db"), "--progress", "none")
			return err
		})
		groups = append(groups,
			group{contenders: []*contender{
				s.azFerry(a, in, wl.dir, func(i int) string { return a.uri(fmt.Sprintf("in-ferry-%s-r%d/", wl.slug, i)) }, nil, wl.n, wl.bytes),
				s.azRclone(a, in, wl.dir, func(i int) string { return fmt.Sprintf("az:%s/in-rclone-%s-r%d/", azContainer, wl.slug, i) }, nil, wl.n, wl.bytes),
			}},
			group{setup: seed, contenders: []*contender{
				s.azFerry(a, out, a.uri(src), nil, func(i int) string { return filepath.Join(s.c.work, fmt.Sprintf("out-ferry-%s-r%d", wl.slug, i)) }, wl.n, wl.bytes),
				s.azRclone(a, out, "az:"+azContainer+"/"+src, nil, func(i int) string { return filepath.Join(s.c.work, fmt.Sprintf("out-rclone-%s-r%d", wl.slug, i)) }, wl.n, wl.bytes),
			}})
	}
	if skip != "" {
		for k := range groups {
			groups[k].setup = nil
			for _, c := range groups[k].contenders {
				c.skip = skip
			}
		}
	}
	return groups, func() {
		if a != nil {
			a.stop()
		}
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
}

// azEnv is every tool's environment with Azurite's.
func (s *servers) azEnv(a *azure) []string {
	if a == nil {
		return s.env()
	}
	return append(s.env(), a.env()...)
}

// azFerry is `ferry migrate run` from `from` into Azure prefix toAz(i),
// or out of Azure into directory toDir(i); one of the two is nil.
func (s *servers) azFerry(a *azure, workload, from string, toAz, toDir func(int) string, n int, size int64) *contender {
	c := &contender{workload: workload, tool: "ferry migrate", objects: n, bytes: size}
	if a == nil {
		return c
	}
	c.servers = []*serverProc{a.proc}
	catalog := func(i int) string {
		return filepath.Join(s.c.work, fmt.Sprintf("catalog-az-%s-r%d.db", slug(workload), i))
	}
	to := func(i int) string {
		if toAz != nil {
			return toAz(i)
		}
		return toDir(i)
	}
	c.run = func(ctx context.Context, i int, sw *stopwatch) (int64, error) {
		return s.timedEnv(ctx, sw, s.azEnv(a), s.c.ferry, "migrate", "run", "--from", from, "--to", to(i),
			"--catalog", catalog(i), "--workers", fmt.Sprint(s.c.workers), "--progress", "none")
	}
	c.cleanup = func(ctx context.Context, i int) error {
		removeCatalog(catalog(i))
		return s.azClean(ctx, a, toAz, toDir, i)
	}
	return c
}

// azRclone is `rclone copy` with the same concurrency and part size as
// Ferry (--transfers, --checkers and --azureblob-upload-concurrency =
// workers; 8 MiB chunks) and no listing of the empty destination.
func (s *servers) azRclone(a *azure, workload, from string, toAz, toDir func(int) string, n int, size int64) *contender {
	c := &contender{workload: workload, tool: "rclone copy (azureblob)", objects: n, bytes: size}
	if s.c.rclone == "" {
		c.skip = "rclone not installed (make bench installs it with go install)"
		return c
	}
	if a == nil {
		return c
	}
	c.servers = []*serverProc{a.proc}
	to := func(i int) string {
		if toAz != nil {
			return toAz(i)
		}
		return toDir(i)
	}
	wk := fmt.Sprint(s.c.workers)
	c.run = func(ctx context.Context, i int, sw *stopwatch) (int64, error) {
		return s.timedEnv(ctx, sw, s.azEnv(a), s.c.rclone, "copy", from, to(i),
			"--transfers", wk, "--checkers", wk, "--azureblob-upload-concurrency", wk,
			"--azureblob-chunk-size", "8M", "--no-check-dest")
	}
	c.cleanup = func(ctx context.Context, i int) error { return s.azClean(ctx, a, toAz, toDir, i) }
	return c
}

// azClean removes what run i wrote: an Azure prefix or a directory.
func (s *servers) azClean(ctx context.Context, a *azure, toAz, toDir func(int) string, i int) error {
	if toDir != nil {
		return os.RemoveAll(toDir(i))
	}
	// Both tools' names end in "<container>/<prefix>".
	uri := toAz(i)
	return a.deletePrefix(ctx, uri[strings.LastIndex(uri, azContainer+"/")+len(azContainer)+1:])
}

// linkOne makes dir hold only name of from (a hard link, else a copy).
func linkOne(from, name, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dst := filepath.Join(dir, name)
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	if err := os.Link(filepath.Join(from, name), dst); err == nil {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(from, name))
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// firstLine is s up to its first newline.
func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// findPIDByCwd finds the process whose working directory is dir.
func findPIDByCwd(dir string) (int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	want, _ := filepath.EvalSymlinks(dir)
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err == nil && (cwd == dir || cwd == want) {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no process runs in %s", dir)
}

// hasLoopback reports whether the loopback profile was asked for (the
// Azure rows are loopback rows).
func (c config) hasLoopback() bool {
	for _, p := range c.profiles {
		if p.loopback() {
			return true
		}
	}
	return false
}
