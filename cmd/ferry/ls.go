package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ferry-project/ferry/fs"
)

func lsCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "ls",
		Usage:     "list a source without mounting it: size, mtime, path",
		ArgsUsage: "SOURCE",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "recursive", Aliases: []string{"R"}, Usage: "every file below SOURCE, streamed in path order"},
			&cli.BoolFlag{Name: "json", Usage: "one JSON object per line"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErr("ls needs exactly one SOURCE")
			}
			tree, err := e.openTree(c.Context, c.Args().First())
			if err != nil {
				return err
			}
			enc := json.NewEncoder(e.stdout)
			n := 0
			print := func(ent fs.Entry) error {
				n++
				if c.Bool("json") {
					return enc.Encode(map[string]any{"path": ent.Path, "key": ent.ObjectKey(), "size": ent.Size,
						"mtime": ent.ModTime.UTC().Format(time.RFC3339), "dir": ent.IsDir(), "version": ent.Version})
				}
				name := ent.Path
				if ent.IsDir() {
					name += "/"
				}
				mtime := "-                  "
				if !ent.ModTime.IsZero() {
					mtime = ent.ModTime.UTC().Format("2006-01-02 15:04:05")
				}
				_, err := fmt.Fprintf(e.stdout, "%12d  %s  %s\n", ent.Size, mtime, name)
				return err
			}
			if c.Bool("recursive") {
				err = tree.Walk(c.Context, fs.All, print)
			} else {
				err = tree.ReadDir(c.Context, "", print)
			}
			if err != nil {
				return err
			}
			return e.missingPrefix(c.Args().First(), n)
		},
	}
}

// missingPrefix is the error of a listing of an object-store prefix that
// holds nothing: such a path does not exist (a directory's absence is
// already reported when it is opened). A whole bucket may be empty.
func (e *env) missingPrefix(loc string, listed int) error {
	if listed > 0 {
		return nil
	}
	u, d, err := e.drivers.Resolve(loc)
	if err != nil || d.Shape == fs.PathShape || strings.Trim(u.Path, "/") == "" {
		return nil
	}
	return usageErr("ls %s: no such path (no object has this prefix)", loc)
}
