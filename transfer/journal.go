package transfer

import (
	"context"
	"encoding/hex"

	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
)

// journal records the multipart upload of t in the catalog.
type journal struct {
	e *Engine
	t *task
}

var _ Journal = journal{}

func (j journal) Started(ctx context.Context, o *Object) error {
	t := j.t
	t.obj.UploadID, t.obj.PartSize, t.obj.State = o.UploadID, o.PartSize, catalog.StateCopying
	row := t.obj
	return j.e.rec.addSync(ctx, func(w *catalog.Writer) error { return w.PutObject(row) })
}

// Resumed records that the upload of t is under way again, so the catalog
// shows a resumed object as copying rather than pending.
func (j journal) Resumed(o *Object) {
	j.e.resumed.Add(1)
	t := j.t
	t.obj.UploadID, t.obj.PartSize, t.obj.State = o.UploadID, o.PartSize, catalog.StateCopying
	row := t.obj
	j.e.rec.add(func(w *catalog.Writer) error { return w.PutObject(row) })
}

func (j journal) Part(o *Object, p fs.Part, sum []byte) {
	cp := catalog.Part{Path: j.t.obj.Path, Number: p.Number, Size: p.Size, ETag: p.ETag, Checksum: hex.EncodeToString(sum)}
	j.e.rec.add(func(w *catalog.Writer) error { return w.AddPart(cp) })
}

func (j journal) Parts(ctx context.Context, o *Object) ([]RecordedPart, error) {
	rows, err := j.e.cat.Parts(ctx, j.t.obj.Path)
	if err != nil {
		return nil, err
	}
	parts := make([]RecordedPart, len(rows))
	for i, p := range rows {
		parts[i] = RecordedPart{Part: fs.Part{Number: p.Number, Size: p.Size, ETag: p.ETag}, Checksum: p.Checksum}
	}
	return parts, nil
}
