package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/agent/sources"
)

func pipe() (*io.PipeReader, *io.PipeWriter) { return io.Pipe() }

func encodeQuery(v map[string][]string) string { return url.Values(v).Encode() }

// loginPage shows the sign-in form.
func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, http.StatusOK, nil, "login", "Sign in", "", map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
}

// safeNext keeps a post-sign-in target only if it is a console path.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/ui/"
	}
	return next
}

// login exchanges the admin or viewer token for a session cookie.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	tok := strings.TrimSpace(r.PostFormValue("token"))
	role := c.roleOf(tok)
	next := safeNext(r.PostFormValue("next"))
	if role == "" {
		c.render(w, http.StatusUnauthorized, nil, "login", "Sign in", "", map[string]any{
			"Next": next, "Error": "That token is neither the master's admin token nor its viewer token."})
		return
	}
	ss := c.sessions.create(role, tok)
	http.SetCookie(w, c.cookie(r, ss))
	http.Redirect(w, r, c.cfg.Base+strings.TrimPrefix(next, "/"), http.StatusSeeOther)
}

// logout ends the session.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, ss *session) error {
	c.sessions.remove(ss.id)
	http.SetCookie(w, c.cookie(r, nil))
	c.redirect(w, r, "login")
	return nil
}

// jobAction pauses, resumes, cancels, retries the failed objects of or
// deletes a job through the API, then shows the outcome on the job page.
func (c *Console) jobAction(w http.ResponseWriter, r *http.Request, ss *session) error {
	id, action := r.PathValue("id"), r.PathValue("action")
	cl, err := c.client(ss.token)
	if err != nil {
		return err
	}
	var msg string
	switch action {
	case "pause", "resume", "cancel":
		_, err = cl.JobAction(r.Context(), id, action)
		msg = map[string]string{"pause": "Paused.", "resume": "Resumed.", "cancel": "Canceled."}[action]
	case "retry-failed":
		var v agent.RetryView
		v, err = cl.RetryFailed(r.Context(), id)
		msg = fmt.Sprintf("Queued %d failed objects again (%d ranges).", v.Objects, v.Ranges)
	case "delete":
		if err = cl.DeleteJob(r.Context(), id); err == nil {
			c.sessions.setFlash(ss, "Deleted job "+id+".")
			c.redirect(w, r, "jobs")
			return nil
		}
	default:
		c.errorPage(w, r, ss, http.StatusNotFound, "There is no action "+strconv.Quote(action)+" on a job.")
		return nil
	}
	var ae *agent.APIError
	switch {
	case asAPIError(err, &ae) && ae.Status != http.StatusNotFound:
		msg = "Could not " + action + ": " + explain(ae)
	case err != nil:
		return err
	}
	c.sessions.setFlash(ss, msg)
	c.redirect(w, r, "jobs/"+pathEscape(id))
	return nil
}

// newJobPage shows the new-job form.
func (c *Console) newJobPage(w http.ResponseWriter, r *http.Request, ss *session) error {
	return c.renderNewJob(w, r, ss, http.StatusOK, jobForm{Skip: agent.SkipModTime, From: r.URL.Query().Get("from")}, "")
}

// renderNewJob shows the form with the saved sources to choose from.
func (c *Console) renderNewJob(w http.ResponseWriter, r *http.Request, ss *session, status int, f jobForm, msg string) error {
	cl, err := c.client(ss.token)
	if err != nil {
		return err
	}
	list, err := savedSources(r, cl)
	if err != nil {
		return err
	}
	c.render(w, status, ss, "newjob", "New job", "new", map[string]any{"F": f, "Error": msg, "Sources": list})
	return nil
}

// jobForm is the new-job form's fields (credentials are never shown back).
type jobForm struct {
	From                                                             string // a saved source; Source is then a path in it
	Source, Dest, Include, Exclude, Workers, BWLimit, Skip, Schedule string
	Delete                                                           bool
}

// createJob creates a job from the form through the API; a refusal shows
// the form again with the reason.
func (c *Console) createJob(w http.ResponseWriter, r *http.Request, ss *session) error {
	f := jobForm{
		From:   strings.TrimSpace(r.PostFormValue("from")),
		Source: strings.TrimSpace(r.PostFormValue("source")), Dest: strings.TrimSpace(r.PostFormValue("dest")),
		Include: r.PostFormValue("include"), Exclude: r.PostFormValue("exclude"),
		Workers: strings.TrimSpace(r.PostFormValue("workers")), BWLimit: strings.TrimSpace(r.PostFormValue("bwlimit")),
		Skip: r.PostFormValue("skip"), Schedule: strings.TrimSpace(r.PostFormValue("schedule")),
		Delete: r.PostFormValue("delete") == "on",
	}
	spec, err := f.spec(r.PostFormValue("credentials"))
	if err == nil && f.Schedule != "" {
		if _, serr := agent.ParseSchedule(f.Schedule); serr != nil {
			err = fmt.Errorf("schedule %q: %v", f.Schedule, serr)
		}
	}
	if err == nil {
		var cl *agent.Client
		if cl, err = c.client(ss.token); err != nil {
			return err
		}
		var j agent.JobView
		if f.From != "" {
			err = cl.Do(r.Context(), http.MethodPost, "/api/v1/sources/"+url.PathEscape(f.From)+"/jobs", sources.JobSpec{
				Path: spec.Source, Dest: spec.Dest, Options: spec.Options, Schedule: spec.Schedule, Credentials: spec.Credentials}, &j)
		} else {
			j, err = cl.CreateJob(r.Context(), spec)
		}
		if err == nil {
			c.sessions.setFlash(ss, "Created job "+j.ID+".")
			c.redirect(w, r, "jobs/"+pathEscape(j.ID))
			return nil
		}
	}
	msg := err.Error()
	var ae *agent.APIError
	if asAPIError(err, &ae) {
		msg = explain(ae)
	}
	return c.renderNewJob(w, r, ss, http.StatusBadRequest, f, msg)
}

// spec turns the form into a JobSpec; creds are KEY=VALUE lines.
func (f jobForm) spec(creds string) (agent.JobSpec, error) {
	s := agent.JobSpec{Source: f.Source, Dest: f.Dest, Schedule: f.Schedule}
	if (s.Source == "" && f.From == "") || s.Dest == "" {
		return s, fmt.Errorf("both a source and a destination are needed (for example /data/photos and s3://bucket/photos)")
	}
	s.Options.Include, s.Options.Exclude = lines(f.Include), lines(f.Exclude)
	if f.Workers != "" {
		n, err := strconv.Atoi(f.Workers)
		if err != nil || n < 1 {
			return s, fmt.Errorf("workers %q: want a whole number of at least 1", f.Workers)
		}
		s.Options.Workers = n
	}
	if f.BWLimit != "" {
		n, err := parseSize(f.BWLimit)
		if err != nil {
			return s, fmt.Errorf("bandwidth limit %q: %v", f.BWLimit, err)
		}
		s.Options.BWLimit = n
	}
	switch f.Skip {
	case "", agent.SkipModTime, agent.SkipSize, agent.SkipNone:
		s.Options.Skip = f.Skip
	default:
		return s, fmt.Errorf("skip rule %q: want modtime, size or none", f.Skip)
	}
	s.Options.Delete = f.Delete
	c, err := parseCreds(creds)
	if err != nil {
		return s, fmt.Errorf("credentials: %w", err)
	}
	s.Credentials = c
	return s, nil
}

// errNoEquals: a credentials line without '='.
var errNoEquals = errors.New("each line is NAME=VALUE (a line has no '=')")

// lines splits text into its non-empty trimmed lines (commas separate too).
func lines(text string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// parseSize reads a byte count with an optional K, M or G (powers of 1024).
func parseSize(s string) (int64, error) {
	s = strings.ToUpper(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(s), "/s"), "B"))
	mul := int64(1)
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'K':
			mul, s = 1<<10, s[:n-1]
		case 'M':
			mul, s = 1<<20, s[:n-1]
		case 'G':
			mul, s = 1<<30, s[:n-1]
		}
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("want bytes per second such as 10M or 512K")
	}
	return int64(n * float64(mul)), nil
}

// failedCSV streams the job's failed objects as CSV from the API.
func (c *Console) failedCSV(w http.ResponseWriter, r *http.Request, ss *session) error {
	return c.download(w, r, ss, "failed", "csv", "text/csv; charset=utf-8")
}

// report streams the job's report (csv, md or html) from the API.
func (c *Console) report(w http.ResponseWriter, r *http.Request, ss *session) error {
	format := r.URL.Query().Get("format")
	ct := map[string]string{"csv": "text/csv; charset=utf-8", "md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}[format]
	if ct == "" {
		c.errorPage(w, r, ss, http.StatusBadRequest, "A report is csv, md or html.")
		return nil
	}
	return c.download(w, r, ss, "report", format, ct)
}

// download answers an API stream as an attachment; an error before the
// first byte is shown as a page.
func (c *Console) download(w http.ResponseWriter, r *http.Request, ss *session, what, format, ct string) error {
	id := r.PathValue("id")
	cl, err := c.client(ss.token)
	if err != nil {
		return err
	}
	// Check the job first, so that a refusal is a page, not a broken file.
	if _, err := cl.Job(r.Context(), id); err != nil {
		return err
	}
	w.Header().Set("Content-Type", ct)
	name := strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, id)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.%s"`, name, what, format))
	if what == "failed" {
		err = cl.Failed(r.Context(), id, format, w)
	} else {
		err = cl.Report(r.Context(), id, format, w)
	}
	if err != nil && r.Context().Err() == nil {
		c.cfg.Logger.Warn("console: download", "job", id, "what", what, "err", err)
	}
	return nil
}

// asAPIError is errors.As for *agent.APIError.
func asAPIError(err error, target **agent.APIError) bool {
	return err != nil && errors.As(err, target)
}
