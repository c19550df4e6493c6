package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// Roles of a session.
const (
	roleAdmin  = "admin"
	roleViewer = "viewer"
)

// cookieName is the session cookie.
const cookieName = "ferry_session"

// session is one signed-in browser: its role, the token the console calls
// the API with, the CSRF token its forms carry and when it expires.
type session struct {
	id      string
	role    string
	token   string
	csrf    string
	expires time.Time
	flash   string // a message for the next page
}

// sessions are the signed-in browsers, in memory (a master restart signs
// everyone out).
type sessions struct {
	ttl time.Duration
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*session
}

func newSessions(ttl time.Duration, now func() time.Time) *sessions {
	return &sessions{ttl: ttl, now: now, m: map[string]*session{}}
}

// randomToken is 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session and drops the expired ones.
func (s *sessions) create(role, token string) *session {
	now := s.now()
	ss := &session{id: randomToken(), role: role, token: token, csrf: randomToken(), expires: now.Add(s.ttl)}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, o := range s.m {
		if !now.Before(o.expires) {
			delete(s.m, id)
		}
	}
	s.m[ss.id] = ss
	return ss
}

// get returns the live session of id, or nil.
func (s *sessions) get(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.m[id]
	if ss == nil {
		return nil
	}
	if !s.now().Before(ss.expires) {
		delete(s.m, id)
		return nil
	}
	return ss
}

// remove ends a session.
func (s *sessions) remove(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

// setFlash and takeFlash carry a message to the next page.
func (s *sessions) setFlash(ss *session, msg string) {
	s.mu.Lock()
	ss.flash = msg
	s.mu.Unlock()
}

func (s *sessions) takeFlash(ss *session) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := ss.flash
	ss.flash = ""
	return m
}

// checkCSRF reports whether the request carries the session's CSRF token
// (form field "csrf" or header X-CSRF-Token).
func (ss *session) checkCSRF(r *http.Request) bool {
	tok := r.Header.Get("X-CSRF-Token")
	if tok == "" {
		tok = r.PostFormValue("csrf")
	}
	return tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(ss.csrf)) == 1
}

// cookie is the session cookie for ss (or, with ss nil, one that clears it).
func (c *Console) cookie(r *http.Request, ss *session) *http.Cookie {
	ck := &http.Cookie{
		Name: cookieName, Path: c.cfg.Base + "ui/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.cfg.Secure || r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https",
	}
	if ss == nil {
		ck.MaxAge = -1
		return ck
	}
	ck.Value = ss.id
	ck.Expires = ss.expires
	ck.MaxAge = int(ss.expires.Sub(c.cfg.Now()).Seconds())
	return ck
}

// sessionOf returns the request's live session, or nil.
func (c *Console) sessionOf(r *http.Request) *session {
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return nil
	}
	return c.sessions.get(ck.Value)
}
