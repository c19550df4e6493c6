package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/agent/sources"
)

// sourceForm is the save-a-source form (secrets are never shown back).
type sourceForm struct {
	Name, URI, Endpoint, Region string
	PathStyle                   bool
}

// savedSources lists the saved sources through the API (none on a master
// without the sources service).
func savedSources(r *http.Request, cl *agent.Client) ([]sources.View, error) {
	var list []sources.View
	err := cl.Do(r.Context(), http.MethodGet, "/api/v1/sources", nil, &list)
	if agent.IsNotFound(err) {
		return nil, nil
	}
	return list, err
}

// sourcesPage lists the saved sources with the form that saves one.
func (c *Console) sourcesPage(w http.ResponseWriter, r *http.Request, ss *session) error {
	return c.renderSources(w, r, ss, http.StatusOK, sourceForm{}, "")
}

func (c *Console) renderSources(w http.ResponseWriter, r *http.Request, ss *session, status int, f sourceForm, msg string) error {
	cl, err := c.client(ss.token)
	if err != nil {
		return err
	}
	list, err := savedSources(r, cl)
	if err != nil {
		return err
	}
	c.render(w, status, ss, "sources", "Sources", "sources", map[string]any{"Rows": list, "F": f, "Error": msg})
	return nil
}

// saveSource saves a source from the form; blank secrets keep the stored
// ones.
func (c *Console) saveSource(w http.ResponseWriter, r *http.Request, ss *session) error {
	f := sourceForm{Name: strings.TrimSpace(r.PostFormValue("name")), URI: strings.TrimSpace(r.PostFormValue("uri")),
		Endpoint: strings.TrimSpace(r.PostFormValue("endpoint")), Region: strings.TrimSpace(r.PostFormValue("region")),
		PathStyle: r.PostFormValue("path_style") == "on"}
	spec := sources.Spec{URI: f.URI, Endpoint: f.Endpoint, Region: f.Region, PathStyle: f.PathStyle}
	secrets, err := parseCreds(r.PostFormValue("secrets"))
	if err != nil {
		return c.renderSources(w, r, ss, http.StatusBadRequest, f, "Secrets: "+err.Error())
	}
	if len(secrets) > 0 {
		spec.Secrets = secrets
	}
	if f.Name == "" {
		return c.renderSources(w, r, ss, http.StatusBadRequest, f, "A source needs a name (letters, digits, '.', '_' or '-').")
	}
	cl, err := c.client(ss.token)
	if err != nil {
		return err
	}
	if err := cl.Do(r.Context(), http.MethodPut, "/api/v1/sources/"+url.PathEscape(f.Name), spec, nil); err != nil {
		var ae *agent.APIError
		if asAPIError(err, &ae) {
			return c.renderSources(w, r, ss, http.StatusBadRequest, f, explain(ae))
		}
		return err
	}
	c.sessions.setFlash(ss, "Saved source "+f.Name+". Test it with Browse.")
	c.redirect(w, r, "sources")
	return nil
}

// deleteSource deletes a saved source.
func (c *Console) deleteSource(w http.ResponseWriter, r *http.Request, ss *session) error {
	name := r.PathValue("name")
	cl, err := c.client(ss.token)
	if err != nil {
		return err
	}
	if err := cl.Do(r.Context(), http.MethodDelete, "/api/v1/sources/"+url.PathEscape(name), nil, nil); err != nil {
		return err
	}
	c.sessions.setFlash(ss, "Deleted source "+name+". Jobs created from it keep their own copy.")
	c.redirect(w, r, "sources")
	return nil
}

// browseSource shows one directory level of a saved source (its test: a
// listing that fails says why).
func (c *Console) browseSource(w http.ResponseWriter, r *http.Request, ss *session) error {
	name, dir := r.PathValue("name"), strings.Trim(r.URL.Query().Get("path"), "/")
	cl, err := c.client(ss.token)
	if err != nil {
		return err
	}
	var v sources.View
	if err := cl.Do(r.Context(), http.MethodGet, "/api/v1/sources/"+url.PathEscape(name), nil, &v); err != nil {
		return err
	}
	var l sources.Listing
	data := map[string]any{"S": v, "Path": dir, "Crumbs": crumbs(dir)}
	err = cl.Do(r.Context(), http.MethodGet, "/api/v1/sources/"+url.PathEscape(name)+"/ls?path="+url.QueryEscape(dir), nil, &l)
	var ae *agent.APIError
	switch {
	case asAPIError(err, &ae):
		data["Error"] = explain(ae)
	case err != nil:
		return err
	default:
		data["L"] = l
	}
	c.render(w, http.StatusOK, ss, "source", "Source "+name, "sources", data)
	return nil
}

// crumb is one step of a path, for the browser's breadcrumbs.
type crumb struct{ Name, Path string }

func crumbs(dir string) []crumb {
	var out []crumb
	if dir == "" {
		return nil
	}
	parts := strings.Split(dir, "/")
	for i, p := range parts {
		out = append(out, crumb{Name: p, Path: strings.Join(parts[:i+1], "/")})
	}
	return out
}

// parseCreds reads NAME=VALUE lines.
func parseCreds(text string) (map[string]string, error) {
	var out map[string]string
	for _, l := range lines(text) {
		k, v, ok := strings.Cut(l, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, errNoEquals
		}
		if out == nil {
			out = map[string]string{}
		}
		out[strings.TrimSpace(k)] = v
	}
	return out, nil
}
