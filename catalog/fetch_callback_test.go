package catalog

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestFetchQueue_DueCallbacks(t *testing.T) {
	ctx := context.Background()
	db := openQueue(t)
	for _, id := range []string{"a", "b", "c"} {
		mustCreate(t, db, newFetch(id), ft0)
	}
	if _, err := db.LeaseFetchTasks(ctx, "ag", 10, ft0, time.Minute); err != nil {
		t.Fatal(err)
	}
	fmust(t, db.FinishFetchTask(ctx, "a", "ag", FetchOutcome{OK: true}, ft0))
	fmust(t, db.FinishFetchTask(ctx, "b", "ag", FetchOutcome{Error: "x"}, ft0.Add(time.Second)))
	if at, ok, err := db.NextCallback(ctx); err != nil || !ok || !at.Equal(ft0) {
		t.Fatalf("NextCallback = %v %v %v", at, ok, err)
	}
	due, err := db.DueCallbacks(ctx, ft0.Add(time.Second), 10, time.Minute)
	if err != nil || fmt.Sprint(fetchIDs(due)) != "[a b]" {
		t.Fatalf("due = %v, %v", fetchIDs(due), err)
	}
	// Claimed: not due again until the hold passes.
	if again, _ := db.DueCallbacks(ctx, ft0.Add(30*time.Second), 10, time.Minute); len(again) != 0 {
		t.Fatalf("claimed callbacks returned again: %v", fetchIDs(again))
	}
	fmust(t, db.MarkCallback(ctx, "a", CallbackAttempt{Delivered: true}, ft0))
	fmust(t, db.MarkCallback(ctx, "b", CallbackAttempt{Error: "503", Next: ft0.Add(10 * time.Second)}, ft0))
	due, _ = db.DueCallbacks(ctx, ft0.Add(10*time.Second), 10, time.Minute)
	if fmt.Sprint(fetchIDs(due)) != "[b]" || due[0].CallbackAttempts != 1 || due[0].CallbackError != "503" {
		t.Fatalf("due after retry = %+v", due)
	}
	fmust(t, db.MarkCallback(ctx, "b", CallbackAttempt{Error: "503 again"}, ft0))
	b, _ := db.FetchTask(ctx, "b")
	if b.CallbackState != CallbackFailed || b.CallbackAttempts != 2 {
		t.Fatalf("given-up callback = %+v", b)
	}
	a, _ := db.FetchTask(ctx, "a")
	if a.CallbackState != CallbackDelivered || a.CallbackAttempts != 1 {
		t.Fatalf("delivered callback = %+v", a)
	}
	// A delivered callback is never marked again.
	fmust(t, db.MarkCallback(ctx, "a", CallbackAttempt{Error: "late"}, ft0))
	if a, _ = db.FetchTask(ctx, "a"); a.CallbackState != CallbackDelivered {
		t.Fatalf("delivered callback changed: %+v", a)
	}
	if _, ok, _ := db.NextCallback(ctx); ok {
		t.Fatal("NextCallback reports a pending callback after all were settled")
	}
	if err := db.MarkCallback(ctx, "zz", CallbackAttempt{Delivered: true}, ft0); !errors.Is(err, ErrFetchNotFound) {
		t.Fatalf("mark unknown: %v", err)
	}
}
