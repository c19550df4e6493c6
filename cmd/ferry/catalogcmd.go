package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/internal/units"
)

func catalogCommand(e *env) *cli.Command {
	format := &cli.StringFlag{Name: "format", Value: "table", Usage: "table, json or csv"}
	listFlags := []cli.Flag{format,
		&cli.StringFlag{Name: "prefix", Usage: "only paths starting with this"},
		&cli.IntFlag{Name: "limit", Usage: "at most this many rows (0: all)"},
	}
	return &cli.Command{
		Name:  "catalog",
		Usage: "inspect a catalog: counts, objects, failures",
		Subcommands: []*cli.Command{
			{
				Name: "stats", Usage: "objects and bytes by state", ArgsUsage: "CATALOG", Flags: []cli.Flag{format},
				Action: func(c *cli.Context) error { return e.catalogStats(c) },
			},
			{
				Name: "ls", Usage: "list objects", ArgsUsage: "CATALOG",
				Flags:  append([]cli.Flag{&cli.StringFlag{Name: "state", Usage: "only objects in this state (pending, copying, done, failed, skipped, restoring)"}}, listFlags...),
				Action: func(c *cli.Context) error { return e.catalogList(c, catalog.State(c.String("state"))) },
			},
			{
				Name: "failed", Usage: "list failed objects with their reasons", ArgsUsage: "CATALOG", Flags: listFlags,
				Action: func(c *cli.Context) error { return e.catalogList(c, catalog.StateFailed) },
			},
		},
	}
}

// openCatalogArg opens the CATALOG argument read-only. The returned
// function closes it and removes the -wal and -shm files reading created
// (catalog.LeaveNoTrace): inspecting a catalog leaves no new file.
func openCatalogArg(c *cli.Context) (*catalog.DB, func(), error) {
	if c.NArg() != 1 {
		return nil, nil, usageErr("catalog %s needs exactly one CATALOG argument", c.Command.Name)
	}
	switch f := c.String("format"); f {
	case "table", "json", "csv":
	default:
		return nil, nil, usageErr("--format %q: want table, json or csv", f)
	}
	if l := c.Int("limit"); l < 0 {
		return nil, nil, usageErr("--limit %d: must be 0 (all) or more", l)
	}
	path := c.Args().First()
	tidy := catalog.LeaveNoTrace(path)
	db, err := catalog.OpenReadOnly(c.Context, path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, usageErr("catalog %s: no such file", path)
	}
	if err != nil {
		return nil, nil, err
	}
	return db, func() {
		_ = db.Close()
		tidy(context.WithoutCancel(c.Context))
	}, nil
}

func (e *env) catalogStats(c *cli.Context) error {
	db, done, err := openCatalogArg(c)
	if err != nil {
		return err
	}
	defer done()
	st, err := db.Stats(c.Context)
	if err != nil {
		return err
	}
	states := []catalog.State{catalog.StatePending, catalog.StateCopying, catalog.StateVerifying, catalog.StateDone, catalog.StateFailed, catalog.StateSkipped}
	for s := range st.ByState {
		if !containsState(states, s) {
			states = append(states, s)
		}
	}
	sort.SliceStable(states[6:], func(i, j int) bool { return states[6+i] < states[6+j] })
	switch c.String("format") {
	case "json":
		out := map[string]any{"catalog": db.Path(), "objects": st.Total, "bytes": st.Bytes, "states": map[string]any{}}
		for _, s := range states {
			out["states"].(map[string]any)[string(s)] = map[string]int64{"objects": st.ByState[s], "bytes": st.BytesByState[s]}
		}
		return writeJSON(e.stdout, out)
	case "csv":
		w := csv.NewWriter(e.stdout)
		_ = w.Write([]string{"state", "objects", "bytes"})
		for _, s := range states {
			_ = w.Write([]string{string(s), strconv.FormatInt(st.ByState[s], 10), strconv.FormatInt(st.BytesByState[s], 10)})
		}
		_ = w.Write([]string{"total", strconv.FormatInt(st.Total, 10), strconv.FormatInt(st.Bytes, 10)})
		w.Flush()
		return w.Error()
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "STATE\tOBJECTS\tBYTES\t\n")
	for _, s := range states {
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", s, st.ByState[s], units.Bytes(st.BytesByState[s]))
	}
	fmt.Fprintf(tw, "total\t%d\t%s\t\n", st.Total, units.Bytes(st.Bytes))
	return tw.Flush()
}

func containsState(list []catalog.State, s catalog.State) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (e *env) catalogList(c *cli.Context, state catalog.State) error {
	db, done, err := openCatalogArg(c)
	if err != nil {
		return err
	}
	defer done()
	opts := catalog.ListOptions{State: state, Prefix: c.String("prefix"), Limit: c.Int("limit")}
	header := []string{"path", "state", "size", "attempts", "dst_etag", "updated", "error"}
	row := func(o catalog.Object) []string {
		return []string{o.Path, string(o.State), strconv.FormatInt(o.Size, 10), strconv.Itoa(o.Attempts), o.DstETag, o.UpdatedAt.UTC().Format(time.RFC3339), o.LastError}
	}
	switch c.String("format") {
	case "json":
		enc := json.NewEncoder(e.stdout)
		return db.List(c.Context, opts, func(o catalog.Object) error {
			return enc.Encode(map[string]any{"path": o.Path, "key": o.Key, "state": o.State, "size": o.Size, "attempts": o.Attempts,
				"version": o.Version, "dst_etag": o.DstETag, "checksum": o.Checksum, "updated": o.UpdatedAt.UTC(), "error": o.LastError})
		})
	case "csv":
		w := csv.NewWriter(e.stdout)
		_ = w.Write(header)
		err := db.List(c.Context, opts, func(o catalog.Object) error { return w.Write(row(o)) })
		w.Flush()
		if err != nil {
			return err
		}
		return w.Error()
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PATH\tSTATE\tSIZE\tATTEMPTS\tDST ETAG\tUPDATED\tERROR")
	err = db.List(c.Context, opts, func(o catalog.Object) error {
		r := row(o)
		_, err := fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r[0], r[1], r[2], r[3], r[4], r[5], r[6])
		return err
	})
	if err != nil {
		return err
	}
	return tw.Flush()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
