package catalog

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkDB_Write measures PutObject throughput in Writes of 10,000 rows,
// as the engine batches them; reported as rows/s.
func BenchmarkDB_Write(b *testing.B) {
	ctx := context.Background()
	db := openTemp(b)
	const batch = 10000
	mod := time.Unix(1700000000, 0)
	b.ResetTimer()
	rows := 0
	for i := 0; i < b.N; i++ {
		err := db.Write(ctx, func(w *Writer) error {
			for j := range batch {
				o := Object{Path: fmt.Sprintf("bench/%08d/%05d.dat", i, j), Size: int64(j), ModTime: mod,
					Version: "etag", State: StatePending}
				if err := w.PutObject(o); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		rows += batch
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkDB_Lookup measures one 500-path Lookup (one query) against
// 50,000 rows, half the paths missing; reported as paths/s.
func BenchmarkDB_Lookup(b *testing.B) {
	ctx := context.Background()
	db := openTemp(b)
	const stored = 50000
	err := db.Write(ctx, func(w *Writer) error {
		for j := range stored {
			if err := w.PutObject(Object{Path: fmt.Sprintf("bench/%06d", j), Size: int64(j)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	paths := make([]string, lookupBatch)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := range paths {
			paths[k] = fmt.Sprintf("bench/%06d", r.IntN(2*stored))
		}
		if _, err := db.Lookup(ctx, paths); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*lookupBatch)/b.Elapsed().Seconds(), "paths/s")
}
