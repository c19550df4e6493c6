package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"path"
	"strings"
	"time"
)

// pageData is what every page template sees: the layout's fields and the
// page's own Data.
type pageData struct {
	Title string
	Nav   string
	Role  string
	CSRF  string
	Flash string
	Data  any
}

// parseTemplates parses each page with the layout; base is the console's
// path prefix, which the "ui" function puts before a console path.
func parseTemplates(base string) (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"ui":      func(p string) string { return base + "ui/" + strings.TrimPrefix(p, "/") },
		"bytes":   humanBytes,
		"rate":    func(b float64) string { return humanBytes(int64(b)) + "/s" },
		"num":     humanCount,
		"pct":     func(f float64) string { return fmt.Sprintf("%.0f%%", f) },
		"when":    when,
		"eta":     eta,
		"join":    strings.Join,
		"add":     func(a, b int) int { return a + b },
		"pathesc": pathEscape,
	}
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		name := strings.TrimSuffix(path.Base(p), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", p)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// render writes page with status, the layout around it.
func (c *Console) render(w http.ResponseWriter, status int, ss *session, page, title, nav string, data any) {
	pd := pageData{Title: title, Nav: nav, Data: data}
	if ss != nil {
		pd.Role, pd.CSRF, pd.Flash = ss.role, ss.csrf, c.sessions.takeFlash(ss)
	}
	var buf bytes.Buffer
	if err := c.tmpl[page].ExecuteTemplate(&buf, "layout", pd); err != nil {
		c.cfg.Logger.Error("console: render", "page", page, "err", err)
		http.Error(w, "the page could not be rendered: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// errorPage shows msg in words with status.
func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, ss *session, status int, msg string) {
	c.render(w, status, ss, "error", "Error", "", map[string]any{"Status": status, "Text": http.StatusText(status), "Message": msg, "SignedIn": ss != nil})
}

// humanBytes is n in B, KiB, MiB…
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// humanCount is n with thousands separators.
func humanCount(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// when is a time in UTC, or "—" for none.
func when(t any) string {
	switch v := t.(type) {
	case time.Time:
		if v.IsZero() {
			return "—"
		}
		return v.UTC().Format("2006-01-02 15:04:05 UTC")
	case *time.Time:
		if v == nil {
			return "—"
		}
		return when(*v)
	}
	return "—"
}

// eta is an estimate in words.
func eta(s *float64) string {
	if s == nil || math.IsNaN(*s) || math.IsInf(*s, 0) {
		return "—"
	}
	return (time.Duration(*s) * time.Second).Round(time.Second).String()
}

// pathEscape escapes an ID for a URL path segment.
func pathEscape(s string) string {
	return strings.ReplaceAll(template.URLQueryEscaper(s), "+", "%20")
}
