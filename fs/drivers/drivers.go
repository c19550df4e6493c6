// Package drivers assembles Ferry's standard driver registry: one entry per
// storage system, each built by its own package. Adding a store is one new
// package plus one line in Standard (see fs/registry.go).
package drivers

import (
	"fmt"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/azblob"
	"github.com/ferry-project/ferry/fs/local"
	"github.com/ferry-project/ferry/fs/s3"
	"github.com/ferry-project/ferry/fs/urllist"
	"github.com/ferry-project/ferry/fs/us3"
)

// Options configure the drivers that need more than fs.Options.
type Options struct {
	// SQLite is the database/sql driver name of github.com/mattn/go-sqlite3
	// that the caller linked ("sqlite3"): URL lists keep their index in it.
	SQLite string
}

// Standard returns the registry of every store Ferry has: local
// directories (and bare paths), S3 with its presets, US3, URL lists and Azure Blob Storage.
func Standard(o Options) (fs.Registry, error) {
	r, err := fs.NewRegistry(
		local.Driver(),
		s3.Driver(),
		us3.Driver(),
		urllist.Driver(urllist.Options{SQLite: o.SQLite}),
		azblob.Driver(),
	)
	if err != nil {
		return fs.Registry{}, fmt.Errorf("standard drivers: %w", err)
	}
	return r, nil
}
