package fetch

import (
	"errors"
	"net/http"
	"time"

	"github.com/ferry-project/ferry/catalog"
)

// get answers GET /fetch/{id}: the task's state, signed like a POST (method
// GET) with a key of the task's job. Whether the task exists is revealed
// only to a caller whose signature is valid (see authorize): an unknown
// TaskId is answered as a task of no job.
func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	pub, sig, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		h.refusal(w, r, http.StatusUnauthorized, RetBadAuth, err.Error())
		return
	}
	id := r.PathValue("id")
	t, err := h.store.FetchTask(r.Context(), id)
	if err != nil && !errors.Is(err, catalog.ErrFetchNotFound) {
		h.opts.Logger.Error("read fetch task", "task", id, "err", err)
		h.refusal(w, r, http.StatusInternalServerError, RetInternal, "read task: internal error")
		return
	}
	missing := refusal{http.StatusNotFound, RetUnknownTask, "unknown TaskId " + id}
	job, ok := h.authorize(w, r, t.JobID, pub, sig, missing)
	if !ok {
		return
	}
	if rf := h.checkFresh(r, job, pub, sig, false); rf.status != 0 {
		h.refuse(w, r, rf)
		return
	}
	writeJSON(w, http.StatusOK, StatusOf(t))
}

// StatusOf renders a task as GET /fetch/{id} shows it.
func StatusOf(t catalog.FetchTask) Status {
	s := Status{
		RetCode: RetOK, ErrMsg: "success", TaskID: t.ID, JobID: t.JobID, URL: t.URL, Bucket: t.Bucket, Key: t.Key,
		State: string(t.State), Attempts: t.Attempts, LastError: t.LastError,
		Callback: CallbackStatus{
			URL: t.CallbackURL(), State: string(t.CallbackState), Attempts: t.CallbackAttempts,
			LastError: t.CallbackError,
		},
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, Finished: timePtr(t.FinishedAt),
	}
	if t.State == catalog.FetchDone {
		s.ETag, s.SHA1, s.Size = t.ETag, t.SHA1, t.Size
	}
	if t.CallbackState == catalog.CallbackPending {
		s.Callback.Next = timePtr(t.CallbackNext)
	}
	return s
}

// timePtr is nil for the zero time.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
