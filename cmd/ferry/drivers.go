package main

import (
	// URL lists keep their index in SQLite through this driver (the
	// catalogs use it too); fs/... links none itself.
	_ "github.com/mattn/go-sqlite3"

	"github.com/ferry-project/ferry/fs"
	"github.com/ferry-project/ferry/fs/drivers"
)

// sqliteDriver is the database/sql name go-sqlite3 registers.
const sqliteDriver = "sqlite3"

// standardDrivers is the registry every command of this binary opens
// locations with, built once per run.
func standardDrivers() (fs.Registry, error) {
	return drivers.Standard(drivers.Options{SQLite: sqliteDriver})
}
