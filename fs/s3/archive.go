package s3

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-project/ferry/fs"
)

var _ fs.Restorer = (*Store)(nil)

// DefaultRestoreDays is how long a restored copy stays readable when the
// caller does not say.
const DefaultRestoreDays = 1

// coldClass reports whether objects of a storage class cannot be read
// before a restore: GLACIER (Flexible Retrieval) and DEEP_ARCHIVE. Glacier
// Instant Retrieval (GLACIER_IR) reads like any other class.
func coldClass(class string) bool {
	return class == string(types.StorageClassGlacier) || class == string(types.StorageClassDeepArchive)
}

// listArchive is the archive state of a listed object: its StorageClass,
// and the RestoreStatus ListObjectsV2 returns when asked for it
// (OptionalObjectAttributes=RestoreStatus): in progress, or finished (a
// restore expiry date, so the restored copy can be read).
func listArchive(o types.Object) fs.Archive {
	class := string(o.StorageClass)
	if !coldClass(class) {
		return fs.Archive{}
	}
	if rs := o.RestoreStatus; rs != nil {
		if aws.ToBool(rs.IsRestoreInProgress) {
			return fs.Archive{Class: class, Restoring: true}
		}
		if rs.RestoreExpiryDate != nil {
			return fs.Archive{}
		}
	}
	return fs.Archive{Class: class}
}

// headArchive is the archive state HeadObject tells: x-amz-storage-class
// and x-amz-restore (`ongoing-request="true"` while a restore runs,
// `ongoing-request="false", expiry-date="…"` once it can be read).
func headArchive(class, restore string) fs.Archive {
	if !coldClass(class) {
		return fs.Archive{}
	}
	switch {
	case strings.Contains(restore, `ongoing-request="false"`):
		return fs.Archive{}
	case strings.Contains(restore, `ongoing-request="true"`):
		return fs.Archive{Class: class, Restoring: true}
	}
	return fs.Archive{Class: class}
}

// Restore requests a temporary copy of an archived object (fs.Restorer):
// RestoreObject for o.Days (DefaultRestoreDays when 0) at retrieval tier
// o.Tier ("Standard", "Bulk" or "Expedited"; "" is S3's default). A
// restore already in progress (409 RestoreAlreadyInProgress) is no error.
func (s *Store) Restore(ctx context.Context, e fs.Entry, o fs.RestoreOptions) error {
	days := o.Days
	if days <= 0 {
		days = DefaultRestoreDays
	}
	req := &types.RestoreRequest{Days: aws.Int32(int32(days))}
	if o.Tier != "" {
		tier := types.Tier(strings.ToUpper(o.Tier[:1]) + strings.ToLower(o.Tier[1:]))
		switch tier {
		case types.TierStandard, types.TierBulk, types.TierExpedited:
		default:
			return fs.ConfigError{Err: fmt.Errorf("restore %s: tier %q is not Standard, Bulk or Expedited", e.Path, o.Tier)}
		}
		req.GlacierJobParameters = &types.GlacierJobParameters{Tier: tier}
	}
	full := s.full(e.ObjectKey())
	_, err := s.client.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(full), RestoreRequest: req})
	if err != nil && apiCode(err) != "RestoreAlreadyInProgress" {
		return fmt.Errorf("restore %s: %w", e.Path, s.wrap("restore", full, err))
	}
	return nil
}
