package urllist

// The tests' index runs on the SQLite driver cmd/ferry links too
// (Options.SQLite "sqlite3"); the package itself links none.
import _ "github.com/mattn/go-sqlite3"
