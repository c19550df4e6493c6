package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/internal/units"
)

// masterFlags are the flags every `ferry job` subcommand takes.
func masterFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "master", EnvVars: []string{"FERRY_MASTER"}, Usage: "master URL (http://host:7070 or https://host:7070)"},
		caFlag(),
	}, secretFlags("token", "the admin token", "FERRY_ADMIN_TOKEN", "FERRY_TOKEN (deprecated)")...)
}

// adminToken resolves the admin token of a `ferry job` command: --token,
// --token-file, FERRY_ADMIN_TOKEN, then (deprecated) FERRY_TOKEN.
func (e *env) adminToken(c *cli.Context) (string, error) {
	tok, err := e.secret(c, "token", "FERRY_ADMIN_TOKEN", "FERRY_TOKEN")
	if err != nil {
		return "", err
	}
	if tok == "" {
		return "", usageErr("ferry job %s needs the admin token: --token-file FILE or FERRY_ADMIN_TOKEN", c.Command.Name)
	}
	return tok, nil
}

// jobOptionFlags are the flags that shape a new job.
func jobOptionFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "schedule", Usage: "re-run as an incremental sync: cron (\"0 2 * * *\") or \"@every 6h\""},
		&cli.IntFlag{Name: "workers", Usage: "parts in flight per agent (default: the agent's --workers)"},
		&cli.StringFlag{Name: "part-size", Usage: "multipart part size, e.g. 8MiB"},
		&cli.StringFlag{Name: "bwlimit", Usage: "cap source reads per agent, e.g. 50MiB (per second)"},
		&cli.StringSliceFlag{Name: "include", Usage: "only copy paths matching this glob (repeatable)"},
		&cli.StringSliceFlag{Name: "exclude", Usage: "skip paths matching this glob (repeatable)"},
		&cli.StringFlag{Name: "skip", Value: agent.SkipModTime, Usage: "when the destination already holds an object: modtime (same size and ETag, or not older), size, or none"},
		&cli.BoolFlag{Name: "delete", Usage: "remove destination objects that vanished from the source"},
		&cli.IntFlag{Name: "attempts", Usage: "tries per request before an object fails (default 6)"},
		&cli.StringFlag{Name: "from-endpoint", Usage: "source endpoint URL"},
		&cli.StringFlag{Name: "to-endpoint", Usage: "destination endpoint URL"},
		&cli.StringFlag{Name: "from-region", Usage: "source S3 region"},
		&cli.StringFlag{Name: "to-region", Usage: "destination S3 region"},
		&cli.BoolFlag{Name: "path-style", Usage: "path-style S3 addressing on both sides"},
	}
}

func jobCommand(e *env) *cli.Command {
	mf := masterFlags()
	with := func(extra ...cli.Flag) []cli.Flag { return append(append([]cli.Flag{}, mf...), extra...) }
	jsonFlag := &cli.BoolFlag{Name: "json", Usage: "print JSON"}
	action := func(name string) *cli.Command {
		return &cli.Command{Name: name, Usage: name + " a job", ArgsUsage: "JOB", Flags: mf,
			Action: func(c *cli.Context) error { return e.jobAction(c, name) }}
	}
	return &cli.Command{
		Name:  "job",
		Usage: "manage the jobs of a master (create, list, show, pause, resume, cancel, retry-failed, failed, report, import, delete, agents)",
		Subcommands: []*cli.Command{
			{Name: "create", Usage: "create a job; prints its ID", ArgsUsage: " ",
				Flags: with(append([]cli.Flag{
					&cli.StringFlag{Name: "from", Usage: "source location"},
					&cli.StringFlag{Name: "to", Usage: "destination location"},
					&cli.StringFlag{Name: "files", Usage: "file listing the only paths to copy, one per line"},
				}, append(jobOptionFlags(), fetchJobFlags()...)...)...),
				Action: func(c *cli.Context) error { return e.jobCreate(c) }},
			{Name: "import", Usage: "create a job for each line SOURCE DEST [FILE_LIST] of a tasks file; prints their IDs",
				ArgsUsage: "TASKS_FILE", Flags: with(jobOptionFlags()...),
				Action: func(c *cli.Context) error { return e.jobImport(c) }},
			{Name: "list", Usage: "list jobs", ArgsUsage: " ", Flags: with(jsonFlag),
				Action: func(c *cli.Context) error { return e.jobList(c) }},
			{Name: "show", Usage: "show a job: state, counters, rate, ETA, ranges", ArgsUsage: "JOB",
				Flags:  with(jsonFlag, &cli.BoolFlag{Name: "ranges", Usage: "also list every range"}),
				Action: func(c *cli.Context) error { return e.jobShow(c) }},
			action("pause"), action("resume"), action("cancel"), action("retry-failed"), action("delete"),
			{Name: "failed", Usage: "list a job's failed objects", ArgsUsage: "JOB", Flags: with(&cli.BoolFlag{Name: "csv", Usage: "print CSV"}, jsonFlag),
				Action: func(c *cli.Context) error { return e.jobFailed(c) }},
			{Name: "report", Usage: "write a job report (every range and failed object)", ArgsUsage: "JOB",
				Flags: with(
					&cli.StringFlag{Name: "format", Value: "md", Usage: "csv, md or html"},
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to this file instead of stdout"},
					&cli.StringFlag{Name: "to", Usage: "also store it as this object, e.g. us3://bucket/reports/job.html"},
				),
				Action: func(c *cli.Context) error { return e.jobReport(c) }},
			{Name: "agents", Usage: "list agents with last heartbeat, lease and throughput", ArgsUsage: " ", Flags: with(jsonFlag),
				Action: func(c *cli.Context) error { return e.jobAgents(c) }},
		},
	}
}

// client builds the API client from --master, the admin token and --ca.
func (e *env) client(c *cli.Context) (*agent.Client, error) {
	if c.String("master") == "" {
		return nil, usageErr("ferry job %s needs --master (or FERRY_MASTER)", c.Command.Name)
	}
	token, err := e.adminToken(c)
	if err != nil {
		return nil, err
	}
	pool, err := e.caPool(c)
	if err != nil {
		return nil, err
	}
	cl, err := agent.NewClient(c.String("master"), token, agent.WithCA(pool))
	if err != nil {
		return nil, usageErr("%w", err)
	}
	return cl, nil
}

// jobArg returns the one JOB argument.
func jobArg(c *cli.Context) (string, error) {
	if c.NArg() != 1 {
		return "", usageErr("ferry job %s needs exactly one JOB argument", c.Command.Name)
	}
	return c.Args().First(), nil
}

// credentialNames are the variables `ferry job create` hands to a job:
// what the drivers read, plain and with the FERRY_SRC_/FERRY_DST_ prefixes.
func credentialNames() []string {
	base := []string{"US3_PUBLIC_KEY", "US3_PRIVATE_KEY", "US3_ENDPOINT", "US3_CUSTOM_DOMAIN",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
		"AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"}
	var out []string
	for _, p := range []string{"", "FERRY_SRC_", "FERRY_DST_"} {
		for _, b := range base {
			out = append(out, p+b)
		}
	}
	return out
}

// jobSpec builds a job from the option flags and this command's credentials.
func (e *env) jobSpec(c *cli.Context, from, to string) (agent.JobSpec, error) {
	o := agent.JobOptions{
		Workers: c.Int("workers"), Include: c.StringSlice("include"), Exclude: c.StringSlice("exclude"),
		Skip: c.String("skip"), Delete: c.Bool("delete"), Attempts: c.Int("attempts"),
		FromEndpoint: c.String("from-endpoint"), ToEndpoint: c.String("to-endpoint"),
		FromRegion: c.String("from-region"), ToRegion: c.String("to-region"), PathStyle: c.Bool("path-style"),
	}
	var err error
	if s := c.String("part-size"); s != "" {
		if o.PartSize, err = units.ParseSize(s); err != nil {
			return agent.JobSpec{}, usageErr("--part-size: %w", err)
		}
	}
	if s := c.String("bwlimit"); s != "" {
		if o.BWLimit, err = units.ParseSize(s); err != nil {
			return agent.JobSpec{}, usageErr("--bwlimit: %w", err)
		}
	}
	creds := map[string]string{}
	for _, k := range credentialNames() {
		if v := e.getenv(k); v != "" {
			creds[k] = v
		}
	}
	return agent.JobSpec{Source: from, Dest: to, Options: o, Schedule: c.String("schedule"), Credentials: creds}, nil
}

func (e *env) jobCreate(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErr("unexpected argument %q (use --from and --to)", c.Args().First())
	}
	switch c.String("type") {
	case "fetch":
		return e.fetchJobCreate(c)
	case "migrate", "":
	default:
		return usageErr("--type %q: want migrate or fetch", c.String("type"))
	}
	if c.String("from") == "" || c.String("to") == "" {
		return usageErr("job create needs --from and --to")
	}
	cl, err := e.client(c)
	if err != nil {
		return err
	}
	spec, err := e.jobSpec(c, c.String("from"), c.String("to"))
	if err != nil {
		return err
	}
	if f := c.String("files"); f != "" {
		if spec.Paths, err = readFileList(f); err != nil {
			return usageErr("--files: %w", err)
		}
	}
	v, err := cl.CreateJob(c.Context, spec)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, v.ID)
	return nil
}

// readFileList reads one path per line (blank lines and # comments skipped).
func readFileList(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	paths := []string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		paths = append(paths, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s lists no paths", name)
	}
	return paths, nil
}

// jobImport creates a job per line SOURCE DEST [FILE_LIST] of a tasks file
// (blank lines and # comments skipped; a relative FILE_LIST is relative to
// the tasks file). Every line is checked before any job is created.
func (e *env) jobImport(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErr("job import needs exactly one TASKS_FILE argument")
	}
	name := c.Args().First()
	data, err := os.ReadFile(name)
	if err != nil {
		return usageErr("tasks file: %w", err)
	}
	cl, err := e.client(c)
	if err != nil {
		return err
	}
	var specs []agent.JobSpec
	for i, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) < 2 || len(fields) > 3 {
			return usageErr("%s line %d: want SOURCE DEST [FILE_LIST], got %d fields", name, i+1, len(fields))
		}
		spec, err := e.jobSpec(c, fields[0], fields[1])
		if err != nil {
			return err
		}
		if len(fields) == 3 {
			list := fields[2]
			if !filepath.IsAbs(list) {
				list = filepath.Join(filepath.Dir(name), list)
			}
			if spec.Paths, err = readFileList(list); err != nil {
				return usageErr("%s line %d: %w", name, i+1, err)
			}
		}
		specs = append(specs, spec)
	}
	if len(specs) == 0 {
		return usageErr("%s holds no tasks", name)
	}
	for i, spec := range specs {
		v, err := cl.CreateJob(c.Context, spec)
		if err != nil {
			return fmt.Errorf("task %d (%s → %s): %w (%d job(s) created before it)", i+1, spec.Source, spec.Dest, err, i)
		}
		fmt.Fprintln(e.stdout, v.ID)
	}
	return nil
}

func (e *env) jobList(c *cli.Context) error {
	cl, err := e.client(c)
	if err != nil {
		return err
	}
	jobs, err := cl.Jobs(c.Context)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return writeJSON(e.stdout, jobs)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tSTATE\tRUN\tOBJECTS\tFAILED\tBYTES\tSOURCE → DESTINATION")
	for _, j := range jobs {
		run, bytes, source := fmt.Sprint(j.Run), units.Bytes(j.Bytes), j.Source
		if j.Type != agent.TypeMigrate {
			run, bytes, source = "-", "-", jobSource(j)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s → %s\n", j.ID, j.Type, j.State, run, j.Objects, j.Failed, bytes, source, j.Dest)
	}
	return tw.Flush()
}

func (e *env) jobShow(c *cli.Context) error {
	id, err := jobArg(c)
	if err != nil {
		return err
	}
	cl, err := e.client(c)
	if err != nil {
		return err
	}
	v, err := cl.Job(c.Context, id)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return writeJSON(e.stdout, v)
	}
	w := e.stdout
	if v.Type != agent.TypeMigrate {
		return showOtherJob(w, v)
	}
	fmt.Fprintf(w, "job %s: %s (run %d)\n  source       %s\n  destination  %s\n", v.ID, v.State, v.Run, v.Source, v.Dest)
	fmt.Fprintf(w, "  objects      %d (%d copied, %d unchanged, %d failed), %s\n", v.Objects, v.Copied, v.Unchanged, v.Failed, units.Bytes(v.Bytes))
	if v.State == "running" {
		eta := "unknown"
		if v.ETASeconds != nil {
			eta = units.Duration(time.Duration(*v.ETASeconds * float64(time.Second)))
		}
		fmt.Fprintf(w, "  rate         %.0f objects/s, %s/s, ETA %s\n", v.RateObjects, units.Bytes(int64(v.RateBytes)), eta)
	}
	fmt.Fprintf(w, "  ranges       %d (%d done, %d leased, %d pending, %d failed)\n", v.RangesTotal, v.RangesDone, v.RangesLeased, v.RangesPending, v.RangesFailed)
	if v.Schedule != "" {
		next := "-"
		if v.NextRun != nil {
			next = v.NextRun.Local().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "  schedule     %s (next run %s)\n", v.Schedule, next)
	}
	if v.Error != "" {
		fmt.Fprintf(w, "  error        %s\n", v.Error)
	}
	if !c.Bool("ranges") {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RANGE\tSTATE\tAGENT\tCOPIED\tUNCHANGED\tFAILED\tSTART\tEND\tCURSOR")
	for _, r := range v.Ranges {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d\t%q\t%q\t%q\n", r.ID, r.State, r.Agent, r.Copied, r.Unchanged, r.Failed, r.Start, r.End, r.Cursor)
	}
	return tw.Flush()
}

// jobAction runs pause, resume, cancel, retry-failed or delete.
func (e *env) jobAction(c *cli.Context, action string) error {
	id, err := jobArg(c)
	if err != nil {
		return err
	}
	cl, err := e.client(c)
	if err != nil {
		return err
	}
	switch action {
	case "delete":
		if err := cl.DeleteJob(c.Context, id); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "job %s deleted\n", id)
	case "retry-failed":
		r, err := cl.RetryFailed(c.Context, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "job %s: %d failed object(s) queued again in %d range(s)\n", id, r.Objects, r.Ranges)
	default:
		v, err := cl.JobAction(c.Context, id, action)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "job %s: %s\n", id, v.State)
	}
	return nil
}

func (e *env) jobFailed(c *cli.Context) error {
	id, err := jobArg(c)
	if err != nil {
		return err
	}
	cl, err := e.client(c)
	if err != nil {
		return err
	}
	switch {
	case c.Bool("csv"):
		return cl.Failed(c.Context, id, "csv", e.stdout)
	case c.Bool("json"):
		return cl.Failed(c.Context, id, "json", e.stdout)
	}
	var sb strings.Builder
	if err := cl.Failed(c.Context, id, "json", &sb); err != nil {
		return err
	}
	var fails []agent.FailureView
	if err := json.Unmarshal([]byte(sb.String()), &fails); err != nil {
		return fmt.Errorf("decode failed list: %w", err)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PATH\tSIZE\tERROR")
	for _, f := range fails {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", f.Path, f.Size, f.Error)
	}
	return tw.Flush()
}

func (e *env) jobAgents(c *cli.Context) error {
	cl, err := e.client(c)
	if err != nil {
		return err
	}
	agents, err := cl.Agents(c.Context)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return writeJSON(e.stdout, agents)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AGENT\tACTIVE\tLAST SEEN\tJOB\tRANGE\tOBJECTS\tBYTES\tRATE")
	for _, a := range agents {
		fmt.Fprintf(tw, "%s\t%v\t%s ago\t%s\t%d\t%d\t%s\t%.0f obj/s, %s/s\n", a.Name, a.Active,
			units.Duration(time.Since(a.LastSeen)), a.JobID, a.RangeID, a.Objects, units.Bytes(a.Bytes), a.RateObjects, units.Bytes(int64(a.RateBytes)))
	}
	return tw.Flush()
}

// jobReport writes a job report to stdout or --output and, with --to,
// stores it as an object (credentials from this command's environment).
func (e *env) jobReport(c *cli.Context) error {
	id, err := jobArg(c)
	if err != nil {
		return err
	}
	format := c.String("format")
	if format != "csv" && format != "md" && format != "html" {
		return usageErr("--format %q: want csv, md or html", format)
	}
	cl, err := e.client(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := cl.Report(c.Context, id, format, &buf); err != nil {
		return err
	}
	switch out := c.String("output"); {
	case out != "":
		if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	case c.String("to") == "":
		_, err := e.stdout.Write(buf.Bytes())
		return err
	}
	to := c.String("to")
	if to == "" {
		return nil
	}
	u, err := fs.ParseURI(to)
	if err != nil {
		return usageErr("--to: %w", err)
	}
	dir, key := path.Split(u.Path)
	if key == "" {
		return usageErr("--to %s: name the report object, e.g. us3://bucket/reports/%s.%s", to, id, format)
	}
	loc := fs.URI{Scheme: u.Scheme, Bucket: u.Bucket, Path: strings.TrimSuffix(dir, "/")}.String()
	sink, err := e.openDest(c.Context, loc, side{envPrefix: "FERRY_DST_", conns: 2})
	if err != nil {
		return err
	}
	if _, err := sink.Put(c.Context, key, bytes.NewReader(buf.Bytes()), int64(buf.Len())); err != nil {
		return fmt.Errorf("store report at %s: %w", to, err)
	}
	slog.Info("ferry: report stored", "at", to)
	return nil
}
