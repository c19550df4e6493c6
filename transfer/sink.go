package transfer

import (
	"hash"

	"github.com/ferry-project/ferry/fs"
)

// The Sink contract lives in package fs, beside Tree (fs/sink.go); these
// names keep the engine's callers compiling while they move to fs.

type (
	Limits      = fs.Limits
	ObjectInfo  = fs.ObjectInfo
	Part        = fs.Part
	Upload      = fs.Upload
	Sink        = fs.Sink
	SummedBody  = fs.SummedBody
	Checksummer = fs.Checksummer
)

// CloseHash is fs.CloseHash.
func CloseHash(h hash.Hash) { fs.CloseHash(h) }

// SumPart is fs.SumPart.
func SumPart(cs Checksummer, b []byte) []byte { return fs.SumPart(cs, b) }
