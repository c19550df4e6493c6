package fs

import (
	"context"
	"errors"
)

// Archive describes an object stored in a cold class (S3 GLACIER and
// DEEP_ARCHIVE, US3 ARCHIVE, Azure's Archive tier) that cannot be read as
// it is. Drivers set it on the Entries of Walk, ReadDir and Stat; the zero
// value means the object can be read now (including an archived object
// whose restored copy is available).
type Archive struct {
	// Class is the store's own name of the class or tier ("GLACIER",
	// "DEEP_ARCHIVE", "ARCHIVE", "Archive"); "" for a readable object.
	Class string
	// Restoring reports that a restore was requested and has not finished.
	Restoring bool
}

// Archived reports whether the entry cannot be read until it is restored.
func (e Entry) Archived() bool { return e.Archive.Class != "" }

// RestoreOptions are what a restore request asks for.
type RestoreOptions struct {
	// Days the restored copy stays readable (S3, US3; Azure rehydrates for
	// good). 0 is the driver's default.
	Days int
	// Tier is the retrieval speed in the store's words ("Standard",
	// "Bulk", "Expedited" for S3; "Standard", "High" for Azure's
	// rehydrate priority); "" is the store's default.
	Tier string
}

// Restorer is an optional Tree extra of stores with cold classes: Restore
// asks the store to make an archived entry readable. It returns once the
// request is accepted, not when the object is readable: Stat the entry
// until its Archive is zero. A restore already in progress is no error.
type Restorer interface {
	Restore(ctx context.Context, e Entry, o RestoreOptions) error
}

// ErrArchived is wrapped by the errors of reading an archived object that
// has not been restored.
var ErrArchived = errors.New("object is archived and must be restored before it can be read")
