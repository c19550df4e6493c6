// Package sources is the master's saved sources: named connections (a
// location URI, endpoint, region and write-only secrets, stored encrypted
// in the master catalog) that operators list, test, browse one directory
// level at a time and create jobs from. It is mounted on the master
// (Service.Mount) under /api/v1/sources, behind the admin token (the
// viewer token reads).
//
//	GET    /api/v1/sources               → []View (secret names, never values)
//	GET    /api/v1/sources/{name}        → View
//	PUT    /api/v1/sources/{name}        ← Spec (secrets absent: kept) → View
//	DELETE /api/v1/sources/{name}        → 204
//	GET    /api/v1/sources/{name}/ls?path=P → Listing (one level, at most 1000 entries)
//	POST   /api/v1/sources/{name}/jobs   ← JobSpec → agent.JobView (through POST /api/v1/jobs)
package sources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/ferry-project/ferry/agent"
	"github.com/ferry-project/ferry/catalog"
	"github.com/ferry-project/ferry/fs"
)

// Spec is the body of PUT /api/v1/sources/{name}. Secrets are environment
// variables as `ferry job create` takes them (AWS_*, US3_*, FERRY_SRC_*);
// absent, a saved source keeps its own.
type Spec struct {
	URI       string            `json:"uri"`
	Endpoint  string            `json:"endpoint,omitempty"`
	Region    string            `json:"region,omitempty"`
	PathStyle bool              `json:"path_style,omitempty"`
	Secrets   map[string]string `json:"secrets,omitempty"`
}

// View is a saved source as the API shows it: its secrets' names only.
type View struct {
	Name        string    `json:"name"`
	URI         string    `json:"uri"`
	Endpoint    string    `json:"endpoint,omitempty"`
	Region      string    `json:"region,omitempty"`
	PathStyle   bool      `json:"path_style,omitempty"`
	SecretNames []string  `json:"secret_names"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Entry is one child of a listed directory.
type Entry struct {
	Name    string    `json:"name"`
	Path    string    `json:"path"`
	Dir     bool      `json:"dir"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time"`
}

// Listing answers GET …/ls: the directory's children in name order;
// Truncated when there were more than MaxEntries.
type Listing struct {
	Path      string  `json:"path"`
	Entries   []Entry `json:"entries"`
	Truncated bool    `json:"truncated,omitempty"`
}

// MaxEntries is the most children one listing returns.
const MaxEntries = 1000

// JobSpec is the body of POST …/jobs: a job whose source is the saved
// source (Path under it), with its endpoint, region and secrets; the
// job's own Credentials (for the destination) are added to them.
type JobSpec struct {
	Path        string            `json:"path,omitempty"`
	Dest        string            `json:"dest"`
	Options     agent.JobOptions  `json:"options"`
	Schedule    string            `json:"schedule,omitempty"`
	Credentials map[string]string `json:"credentials,omitempty"`
}

// Config configures a Service.
type Config struct {
	DB     *catalog.MasterDB
	Opener agent.Opener
	// Drivers parses a source's URI and names the credential variables a
	// source may carry.
	Drivers fs.Registry
	Logger  *slog.Logger
	Now     func() time.Time
}

// Service serves the saved sources.
type Service struct {
	cfg Config
	api http.Handler // the master's mux, for POST /api/v1/jobs
}

// New makes a Service.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.Opener == nil || len(cfg.Drivers.Schemes()) == 0 {
		return nil, errors.New("new sources service: a catalog, an opener and drivers are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg}, nil
}

// Mount registers the routes (it is an agent.Mount).
func (s *Service) Mount(mux *http.ServeMux, admin, _ func(http.Handler) http.Handler) {
	s.api = mux
	h := func(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
		return admin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := fn(w, r); err != nil {
				s.fail(w, r, err)
			}
		}))
	}
	mux.Handle("GET /api/v1/sources", h(s.list))
	mux.Handle("GET /api/v1/sources/{name}", h(s.show))
	mux.Handle("PUT /api/v1/sources/{name}", h(s.put))
	mux.Handle("DELETE /api/v1/sources/{name}", h(s.remove))
	mux.Handle("GET /api/v1/sources/{name}/ls", h(s.ls))
	mux.Handle("POST /api/v1/sources/{name}/jobs", h(s.createJob))
}

// statusError is an error answered with its status.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

func errStatus(status int, format string, a ...any) error {
	return &statusError{status: status, msg: fmt.Sprintf(format, a...)}
}

// fail answers err as the master's JSON error.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, err.Error()
	var se *statusError
	var ae *agent.APIError
	switch {
	case errors.As(err, &se):
		status = se.status
	case errors.As(err, &ae):
		status, msg = ae.Status, ae.Message
	case errors.Is(err, catalog.ErrSourceNotFound):
		status = http.StatusNotFound
	default:
		s.cfg.Logger.Error("sources: request failed", "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, map[string]string{"error": msg, "code": agent.ErrorCode(status)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// decode reads one JSON body of at most 1 MiB, refusing unknown fields.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errStatus(http.StatusBadRequest, "malformed JSON: empty body")
		}
		return errStatus(http.StatusBadRequest, "malformed JSON: %v", err)
	}
	return nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func viewOf(src catalog.Source) View {
	names := src.SecretNames
	if names == nil {
		names = []string{}
	}
	return View{Name: src.Name, URI: src.URI, Endpoint: src.Endpoint, Region: src.Region, PathStyle: src.PathStyle,
		SecretNames: names, CreatedAt: src.CreatedAt.UTC(), UpdatedAt: src.UpdatedAt.UTC()}
}

func (s *Service) list(w http.ResponseWriter, r *http.Request) error {
	srcs, err := s.cfg.DB.Sources(r.Context())
	if err != nil {
		return err
	}
	out := make([]View, 0, len(srcs))
	for _, src := range srcs {
		out = append(out, viewOf(src))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Service) show(w http.ResponseWriter, r *http.Request) error {
	src, err := s.cfg.DB.SourceSecrets(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewOf(src))
	return nil
}

func (s *Service) put(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if !nameRE.MatchString(name) {
		return errStatus(http.StatusBadRequest, "source name %q: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	var sp Spec
	if err := decode(w, r, &sp); err != nil {
		return err
	}
	if _, err := s.cfg.Drivers.Parse(sp.URI); err != nil {
		return errStatus(http.StatusBadRequest, "source %s: %v", name, err)
	}
	for k := range sp.Secrets {
		if err := s.cfg.Drivers.CheckCredentialVar(k); err != nil {
			return errStatus(http.StatusBadRequest, "source %s: %v", name, err)
		}
	}
	src := catalog.Source{Name: name, URI: sp.URI, Endpoint: sp.Endpoint, Region: sp.Region, PathStyle: sp.PathStyle, Secrets: sp.Secrets}
	if err := s.cfg.DB.PutSource(r.Context(), src, sp.Secrets == nil, s.cfg.Now()); err != nil {
		return err
	}
	s.cfg.Logger.Info("source saved", "source", name)
	return s.show(w, r)
}

func (s *Service) remove(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.DB.DeleteSource(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// errFull stops a listing at MaxEntries.
var errFull = errors.New("listing full")

// ls lists one directory level of a saved source (ReadDir of its tree,
// the same tree ferry mount shows).
func (s *Service) ls(w http.ResponseWriter, r *http.Request) error {
	src, err := s.cfg.DB.SourceSecrets(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	dir := strings.Trim(r.URL.Query().Get("path"), "/")
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	tree, err := s.cfg.Opener.OpenSource(ctx, agent.Location{URI: src.URI, Endpoint: src.Endpoint, Region: src.Region,
		PathStyle: src.PathStyle, Creds: src.Secrets, Conns: 2})
	if err != nil {
		return errStatus(http.StatusUnprocessableEntity, "open source %s: %v", src.Name, err)
	}
	out := Listing{Path: dir, Entries: []Entry{}}
	err = tree.ReadDir(ctx, dir, func(e fs.Entry) error {
		if len(out.Entries) == MaxEntries {
			out.Truncated = true
			return errFull
		}
		name := e.Path[strings.LastIndex(e.Path, "/")+1:]
		out.Entries = append(out.Entries, Entry{Name: name, Path: e.Path, Dir: e.IsDir(), Size: e.Size, ModTime: e.ModTime.UTC()})
		return nil
	})
	switch {
	case errors.Is(err, errFull):
	case errors.Is(err, fs.ErrNotExist):
		return errStatus(http.StatusNotFound, "source %s has no directory %q", src.Name, dir)
	case err != nil:
		return errStatus(http.StatusUnprocessableEntity, "list %q of source %s: %v", dir, src.Name, err)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createJob creates a job from the saved source through the master's own
// POST /api/v1/jobs, with the caller's token.
func (s *Service) createJob(w http.ResponseWriter, r *http.Request) error {
	src, err := s.cfg.DB.SourceSecrets(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	var js JobSpec
	if err := decode(w, r, &js); err != nil {
		return err
	}
	spec := agent.JobSpec{Source: joinURI(src.URI, js.Path), Dest: js.Dest, Options: js.Options, Schedule: js.Schedule}
	if spec.Options.FromEndpoint == "" {
		spec.Options.FromEndpoint = src.Endpoint
	}
	if spec.Options.FromRegion == "" {
		spec.Options.FromRegion = src.Region
	}
	spec.Options.PathStyle = spec.Options.PathStyle || src.PathStyle
	spec.Credentials = maps.Clone(src.Secrets)
	if spec.Credentials == nil {
		spec.Credentials = map[string]string{}
	}
	maps.Copy(spec.Credentials, js.Credentials)
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	cl, err := agent.NewClient("http://master", tok, agent.WithTransport(agent.InProcess(s.api)))
	if err != nil {
		return err
	}
	v, err := cl.CreateJob(r.Context(), spec)
	if err != nil {
		return err
	}
	s.cfg.Logger.Info("job created from source", "source", src.Name, "job", v.ID)
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// joinURI appends a path under a location URI.
func joinURI(uri, path string) string {
	path = strings.Trim(path, "/")
	if path == "" {
		return uri
	}
	return strings.TrimRight(uri, "/") + "/" + path
}
