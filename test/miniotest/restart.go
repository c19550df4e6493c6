package miniotest

import (
	"errors"
	"fmt"
	"time"
)

// restartAttempts bounds the tries of Restart while the old process's
// address is not yet free to bind again.
const restartAttempts = 5

// Kill ends the server at once with SIGKILL, as a crash would (no
// shutdown, connections cut), and waits until the process is gone. Its
// data directory stays; Restart brings it back. Killing a server that is
// not running is a no-op.
func (s *Server) Kill() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		p.kill()
	}
}

// Restart starts the server again after Kill, on the same address with the
// same data directory and credentials, and returns once its object layer
// is ready (every bucket and object written before Kill is there again).
// It fails when the server is running.
func (s *Server) Restart() error {
	s.mu.Lock()
	running := s.proc != nil
	s.mu.Unlock()
	if running {
		return errors.New("restart minio: the server is running")
	}
	var err error
	for attempt := 0; attempt < restartAttempts; attempt++ {
		if err = s.launch(); err == nil {
			return nil
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	return fmt.Errorf("restart minio at %s: %w", s.Endpoint, err)
}

// stop ends the running server, if any (SIGTERM, then SIGKILL).
func (s *Server) stop() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		p.stop()
	}
}
