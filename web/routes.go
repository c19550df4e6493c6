package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ferry-project/ferry/agent"
)

// routes registers every page, action and stream of the console.
func (c *Console) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /ui/static/", c.static)
	mux.HandleFunc("GET /ui/login", c.loginPage)
	mux.HandleFunc("POST /ui/login", c.login)
	mux.HandleFunc("POST /ui/logout", c.action(false, c.logout))
	mux.HandleFunc("GET /ui/{$}", c.page(c.overview))
	mux.HandleFunc("GET /ui/events", c.page(c.overviewEvents))
	mux.HandleFunc("GET /ui/jobs", c.page(c.jobsPage))
	mux.HandleFunc("GET /ui/jobs/new", c.page(c.newJobPage))
	mux.HandleFunc("GET /ui/schedule", c.page(c.schedulePreview))
	mux.HandleFunc("POST /ui/jobs", c.action(true, c.createJob))
	mux.HandleFunc("GET /ui/jobs/{id}", c.page(c.jobPage))
	mux.HandleFunc("GET /ui/jobs/{id}/events", c.page(c.jobEvents))
	mux.HandleFunc("GET /ui/jobs/{id}/failed.csv", c.page(c.failedCSV))
	mux.HandleFunc("GET /ui/jobs/{id}/report", c.page(c.report))
	mux.HandleFunc("POST /ui/jobs/{id}/{action}", c.action(true, c.jobAction))
	mux.HandleFunc("GET /ui/agents", c.page(c.agentsPage))
	mux.HandleFunc("GET /ui/fetch", c.page(c.fetchPage))
	mux.HandleFunc("GET /ui/sources", c.page(c.sourcesPage))
	mux.HandleFunc("POST /ui/sources", c.action(true, c.saveSource))
	mux.HandleFunc("GET /ui/sources/{name}", c.page(c.browseSource))
	mux.HandleFunc("POST /ui/sources/{name}/delete", c.action(true, c.deleteSource))
	mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		c.errorPage(w, r, c.sessionOf(r), http.StatusNotFound, "There is no such page. Go back to the overview.")
	})
	return mux
}

// handler is a page or an action of a signed-in session; its error is
// shown as a page in words.
type handler func(w http.ResponseWriter, r *http.Request, ss *session) error

// page runs h for a signed-in session; without one, a browser is sent to
// the sign-in page.
func (c *Console) page(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss := c.sessionOf(r)
		if ss == nil {
			http.Redirect(w, r, c.cfg.Base+"ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if err := h(w, r, ss); err != nil {
			c.fail(w, r, ss, err)
		}
	}
}

// action runs h for a POST of a signed-in session that carries its CSRF
// token; with admin, only an admin session may. Refusals: 401 without a
// session, 403 without the CSRF token or for a viewer.
func (c *Console) action(admin bool, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss := c.sessionOf(r)
		switch {
		case ss == nil:
			c.errorPage(w, r, nil, http.StatusUnauthorized, "Your session has ended (or you never signed in). Sign in again, then repeat what you did.")
			return
		case !ss.checkCSRF(r):
			c.errorPage(w, r, ss, http.StatusForbidden, "This form is out of date (its security token is missing or wrong). Reload the page and try again.")
			return
		case admin && ss.role != roleAdmin:
			c.errorPage(w, r, ss, http.StatusForbidden, "You are signed in with the viewer token, which only reads. Sign in with the admin token to change anything.")
			return
		}
		if err := h(w, r, ss); err != nil {
			c.fail(w, r, ss, err)
		}
	}
}

// fail shows err as a page: the master's refusals with their status and
// message, anything else as a 500.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, ss *session, err error) {
	if r.Context().Err() != nil {
		return
	}
	var ae *agent.APIError
	if errors.As(err, &ae) {
		c.errorPage(w, r, ss, ae.Status, explain(ae))
		return
	}
	c.cfg.Logger.Error("console: request failed", "path", r.URL.Path, "err", err)
	c.errorPage(w, r, ss, http.StatusInternalServerError, "Something went wrong on the master: "+err.Error())
}

// explain says an API refusal in words.
func explain(ae *agent.APIError) string {
	msg := ae.Message
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	switch ae.Status {
	case http.StatusNotFound:
		return msg + ". It may have been deleted; see the jobs list."
	case http.StatusConflict:
		return msg + "."
	case http.StatusForbidden, http.StatusUnauthorized:
		return "The master refused: " + msg + "."
	}
	return fmt.Sprintf("The master answered %d: %s.", ae.Status, msg)
}

// redirect sends the browser to path (under the console) after an action.
func (c *Console) redirect(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, c.cfg.Base+"ui/"+strings.TrimPrefix(path, "/"), http.StatusSeeOther)
}
