package agent

import (
	"context"

	"github.com/ferry-project/ferry/fs"
)

// Location is one end of a job as an Opener needs it.
type Location struct {
	URI       string // the job's source or destination location
	Endpoint  string // overrides the endpoint from the credentials
	Region    string
	PathStyle bool
	// Creds are the job's environment variables; an Opener consults them
	// before its own environment. They must never be logged or returned
	// in an error.
	Creds map[string]string
	Conns int // connection pool size (0: a default)
}

// Opener turns a job's locations into a Tree and a Sink. The master uses it
// to plan and split ranges, the agent to copy. cmd/ferry implements it over
// the drivers.
type Opener interface {
	// OpenSource opens a source location and checks it can be read.
	OpenSource(ctx context.Context, loc Location) (fs.Tree, error)
	// OpenDest opens a destination and checks it can be written.
	OpenDest(ctx context.Context, loc Location) (fs.Sink, error)
	// OpenDestTree lists a destination as a Tree (for the skip rule and
	// deletion); called after OpenDest succeeded.
	OpenDestTree(ctx context.Context, loc Location) (fs.Tree, error)
}

// sourceLocation is the job's source with its options and credentials.
func sourceLocation(uri string, o JobOptions, creds map[string]string, conns int) Location {
	return Location{URI: uri, Endpoint: o.FromEndpoint, Region: o.FromRegion, PathStyle: o.PathStyle, Creds: creds, Conns: conns}
}

// destLocation is the job's destination with its options and credentials.
func destLocation(uri string, o JobOptions, creds map[string]string, conns int) Location {
	return Location{URI: uri, Endpoint: o.ToEndpoint, Region: o.ToRegion, PathStyle: o.PathStyle, Creds: creds, Conns: conns}
}
