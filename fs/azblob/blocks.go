package azblob

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/ferry-project/ferry/fs"
)

// Multipart uploads are block blobs (Put Block, Get Block List, Put Block
// List). Azure keeps no upload object: an upload is the set of uncommitted
// blocks of a blob, so Ferry names its blocks so that the upload can be
// found again from the blob alone.
//
// An upload ID is 16 random hex digits. Block IDs are, before base64, the
// 62 bytes
//
//	ferry.<upload ID>.<part number, 6 digits>.<part MD5, 32 hex digits>
//
// (every block of a blob must have an ID of one length; Azure allows 64).
// They are deterministic: the same part of the same upload with the same
// bytes is the same block, so staging it again replaces it. Two more IDs
// of that length are markers, each staged as a 1-byte block:
//
//	ferry.<upload ID>.create.000…0   staged by CreateMultipart
//	ferry.<upload ID>.abort_.000…0   staged by AbortMultipart
//
// ListParts reads the uncommitted block list: an upload without its create
// marker (unknown, committed, or expired) or with its abort marker is
// unknown (fs.ErrNotExist); otherwise every block of the upload is a part,
// numbered and with its MD5 (the part ETag) from its ID. A restarted copy
// therefore lists exactly what is staged and stages only what is missing.
// CompleteMultipart commits the blocks named by the parts' numbers and
// MD5s, so a list that does not match what was staged fails instead of
// committing other bytes; committing discards every other uncommitted
// block of the blob (markers and other uploads' blocks).
//
// AbortMultipart cannot delete staged blocks (Azure has no such call; a
// blob with only uncommitted blocks does not exist for Delete Blob): it
// stages the abort marker, and Azure discards the uncommitted blocks of a
// blob that is not committed within 7 days, or when any later upload of
// that blob is committed.
const (
	blockTag    = "ferry"
	tagCreate   = "create"
	tagAbort    = "abort_"
	zeroMD5Hex  = "00000000000000000000000000000000"
	uploadIDLen = 16
)

// blockName is the raw (pre-base64) block ID of part n with MD5 sum.
func blockName(uploadID string, n int, sum []byte) string {
	return fmt.Sprintf("%s.%s.%06d.%s", blockTag, uploadID, n, hex.EncodeToString(sum))
}

// markerName is the raw block ID of an upload's marker.
func markerName(uploadID, tag string) string {
	return blockTag + "." + uploadID + "." + tag + "." + zeroMD5Hex
}

// blockID encodes a raw block ID as Put Block wants it.
func blockID(raw string) string { return base64.StdEncoding.EncodeToString([]byte(raw)) }

// parsedBlock is what a staged block's ID says.
type parsedBlock struct {
	upload string
	tag    string // tagCreate, tagAbort, or "" for a part
	number int
	md5hex string
}

// parseBlock reads a base64 block ID; ok is false for blocks that are not
// Ferry's (other tools' uploads of the same blob).
func parseBlock(b64 string) (parsedBlock, bool) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return parsedBlock{}, false
	}
	f := strings.Split(string(raw), ".")
	if len(f) != 4 || f[0] != blockTag || len(f[1]) != uploadIDLen || len(f[2]) != 6 || len(f[3]) != 2*md5.Size {
		return parsedBlock{}, false
	}
	if _, err := hex.DecodeString(f[3]); err != nil {
		return parsedBlock{}, false
	}
	p := parsedBlock{upload: f[1], md5hex: f[3]}
	switch f[2] {
	case tagCreate, tagAbort:
		p.tag = f[2]
	default:
		n, err := strconv.Atoi(f[2])
		if err != nil || n < 0 {
			return parsedBlock{}, false
		}
		p.number = n
	}
	return p, true
}

// validUploadID reports whether id is one CreateMultipart made.
func validUploadID(id string) bool {
	if len(id) != uploadIDLen {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// CreateMultipart starts an upload: a fresh random upload ID, and its
// create marker staged on the blob (which also proves that the container
// and credentials work). Azure takes the requested part size as it is.
func (s *Store) CreateMultipart(ctx context.Context, key string, size, partSize int64) (fs.Upload, error) {
	b, rel, err := s.locate(key)
	if err != nil {
		return fs.Upload{}, err
	}
	if partSize < 1 || partSize > MaxPartSize {
		return fs.Upload{}, permanentf("create upload of %s: part size %d outside 1..%d", b.label(rel), partSize, int64(MaxPartSize))
	}
	var rnd [uploadIDLen / 2]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return fs.Upload{}, fmt.Errorf("create upload of %s: random ID: %w", b.label(rel), err)
	}
	id := hex.EncodeToString(rnd[:])
	if err := b.stageMarker(ctx, rel, id, tagCreate); err != nil {
		return fs.Upload{}, err
	}
	return fs.Upload{ID: id, PartSize: partSize}, nil
}

// stageMarker stages one of an upload's 1-byte marker blocks.
func (b *bucket) stageMarker(ctx context.Context, rel, uploadID, tag string) error {
	body := []byte{'.'}
	w, err := newWindow(bytes.NewReader(body), 1)
	if err != nil {
		return err
	}
	sum := md5.Sum(body)
	_, err = b.blockBlob(rel).StageBlock(ctx, blockID(markerName(uploadID, tag)), w, &blockblob.StageBlockOptions{
		TransactionalValidation: blob.TransferValidationTypeMD5(sum[:]),
	})
	return wrap("stage "+strings.TrimSuffix(tag, "_")+" marker of upload "+uploadID+" of", b.label(rel), err)
}

// UploadPart stages part n (0-based) of size bytes from r as the block
// named by the upload, n and the part's MD5, with Content-MD5 so the
// service refuses damaged bytes. The MD5 is the one a fs.SummedBody
// carries, else it is computed from r first. The part's ETag is its hex
// MD5.
func (s *Store) UploadPart(ctx context.Context, key, uploadID string, n int, r io.ReadSeeker, size int64) (fs.Part, error) {
	b, rel, err := s.locate(key)
	if err != nil {
		return fs.Part{}, err
	}
	if !validUploadID(uploadID) || n < 0 || n >= MaxParts || size <= 0 || size > MaxPartSize {
		return fs.Part{}, permanentf("stage block %d of %s: invalid upload %q, part number or size %d", n, b.label(rel), uploadID, size)
	}
	if err := ctx.Err(); err != nil {
		return fs.Part{}, err
	}
	body, sum, err := s.summed(r, size)
	if err != nil {
		return fs.Part{}, fmt.Errorf("stage block %d of %s: %w", n, b.label(rel), err)
	}
	_, err = b.blockBlob(rel).StageBlock(ctx, blockID(blockName(uploadID, n, sum)), body, &blockblob.StageBlockOptions{
		TransactionalValidation: blob.TransferValidationTypeMD5(sum),
	})
	if err != nil {
		return fs.Part{}, wrap(fmt.Sprintf("stage block %d of", n), b.label(rel), err)
	}
	return fs.Part{Number: n, Size: size, ETag: hex.EncodeToString(sum)}, nil
}

// ListParts returns the parts staged for an upload, ordered by number,
// from the blob's uncommitted block list. An unknown, aborted, committed or
// expired upload gives an error wrapping fs.ErrNotExist. A part number
// staged twice with different bytes (a part whose source changed) is left
// out, so it is staged again.
func (s *Store) ListParts(ctx context.Context, key, uploadID string) ([]fs.Part, error) {
	b, rel, err := s.locate(key)
	if err != nil {
		return nil, err
	}
	if !validUploadID(uploadID) {
		return nil, &Error{Op: "list blocks of upload " + uploadID + " of", Name: b.label(rel), Err: fmt.Errorf("not an upload ID of this driver: %w", fs.ErrNotExist)}
	}
	resp, err := b.blockBlob(rel).GetBlockList(ctx, blockblob.BlockListTypeUncommitted, nil)
	if err != nil {
		return nil, wrap("list blocks of", b.label(rel), err)
	}
	created, aborted := false, false
	byNum := map[int]fs.Part{}
	dup := map[int]bool{}
	for _, blk := range resp.UncommittedBlocks {
		if blk == nil || blk.Name == nil {
			continue
		}
		pb, ok := parseBlock(*blk.Name)
		if !ok || pb.upload != uploadID {
			continue
		}
		switch pb.tag {
		case tagCreate:
			created = true
		case tagAbort:
			aborted = true
		default:
			if old, ok := byNum[pb.number]; ok && old.ETag != pb.md5hex {
				dup[pb.number] = true
			}
			byNum[pb.number] = fs.Part{Number: pb.number, Size: deref(blk.Size), ETag: pb.md5hex}
		}
	}
	if !created || aborted {
		state := "unknown, committed or expired"
		if aborted {
			state = "aborted"
		}
		return nil, &Error{Op: "list blocks of upload " + uploadID + " of", Name: b.label(rel), Err: fmt.Errorf("upload %s: %w", state, fs.ErrNotExist)}
	}
	parts := make([]fs.Part, 0, len(byNum))
	for n, p := range byNum {
		if !dup[n] {
			parts = append(parts, p)
		}
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Number < parts[j].Number })
	return parts, nil
}

// CompleteMultipart commits the blocks of parts (ordered, contiguous from
// 0, each ETag the part's hex MD5) as the blob's content (Put Block List).
// The result's Size is the sum of the part sizes; its ETag is empty (a
// committed block list has no Content-MD5).
func (s *Store) CompleteMultipart(ctx context.Context, key, uploadID string, parts []fs.Part) (fs.ObjectInfo, error) {
	b, rel, err := s.locate(key)
	if err != nil {
		return fs.ObjectInfo{}, err
	}
	if !validUploadID(uploadID) {
		return fs.ObjectInfo{}, permanentf("commit blocks of %s: invalid upload ID %q", b.label(rel), uploadID)
	}
	ids := make([]string, len(parts))
	var size int64
	for i, p := range parts {
		sum, err := hex.DecodeString(p.ETag)
		if p.Number != i || err != nil || len(sum) != md5.Size {
			return fs.ObjectInfo{}, permanentf("commit blocks of %s: part %d is number %d with ETag %q, want contiguous parts from 0 with MD5 ETags", b.label(rel), i, p.Number, p.ETag)
		}
		ids[i] = blockID(blockName(uploadID, p.Number, sum))
		size += p.Size
	}
	resp, err := b.blockBlob(rel).CommitBlockList(ctx, ids, nil)
	if err != nil {
		return fs.ObjectInfo{}, wrap("commit blocks of upload "+uploadID+" of", b.label(rel), err)
	}
	return fs.ObjectInfo{Key: key, Size: size, ModTime: deref(resp.LastModified)}, nil
}

// AbortMultipart marks an upload aborted by staging its abort marker: from
// then on ListParts reports it unknown. Its blocks stay uncommitted until
// Azure discards them (after 7 days, or when the blob is next committed).
// Aborting an unknown upload is not an error.
func (s *Store) AbortMultipart(ctx context.Context, key, uploadID string) error {
	b, rel, err := s.locate(key)
	if err != nil {
		return err
	}
	if !validUploadID(uploadID) {
		return nil // not one of ours: nothing of it can be staged
	}
	return b.stageMarker(ctx, rel, uploadID, tagAbort)
}
