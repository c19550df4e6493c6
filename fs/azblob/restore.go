package azblob

import (
	"context"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/ferry-project/ferry/fs"
)

var _ fs.Restorer = (*Store)(nil)

// Restore rehydrates an archived blob (fs.Restorer): Set Blob Tier to Hot
// with the rehydrate priority o.Tier ("Standard", the default, or
// "High"). Azure keeps a rehydrated blob online for good, so o.Days is
// not used. The blob's entry shows Restoring (archive status
// rehydrate-pending-to-hot) until it is readable; asking again while it
// is pending is no error.
func (s *Store) Restore(ctx context.Context, e fs.Entry, o fs.RestoreOptions) error {
	pri := blob.RehydratePriorityStandard
	switch strings.ToLower(o.Tier) {
	case "", "standard":
	case "high":
		pri = blob.RehydratePriorityHigh
	default:
		return permanentf("azblob: restore %s: rehydrate priority %q is not Standard or High", e.Path, o.Tier)
	}
	b, key, err := s.locate(e.ObjectKey())
	if err != nil {
		return err
	}
	_, err = b.blob(key).SetTier(ctx, blob.AccessTierHot, &blob.SetTierOptions{RehydratePriority: &pri})
	if err = wrap("set tier of", b.label(key), err); err != nil {
		return fmt.Errorf("restore %s: %w", e.Path, err)
	}
	return nil
}
