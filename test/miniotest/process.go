package miniotest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"github.com/ferry-project/ferry/internal/syncbuf"
	"net"
	"net/http"
	"os/exec"
	"syscall"
	"time"
)

// readyWait bounds how long a start waits for the health endpoint; it is a
// guard against a hung server, not a measurement.
const readyWait = 60 * time.Second

// stopWait is how long stop waits after SIGTERM before SIGKILL.
const stopWait = 10 * time.Second

// process is a started server process and the channel its exit arrives on.
type process struct {
	cmd    *exec.Cmd
	logs   *syncbuf.Buffer
	exited chan struct{}
	err    error // valid once exited is closed
}

// startProcess starts cmd (killed with the test process if that dies) and
// polls each health URL in turn until it answers 200. On failure the
// process is gone and the error carries its output.
func startProcess(cmd *exec.Cmd, healthURLs ...string) (*process, error) {
	p := &process{cmd: cmd, logs: &syncbuf.Buffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", cmd.Path, err)
	}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	for _, u := range healthURLs {
		if err := p.waitLive(u); err != nil {
			p.kill()
			return nil, fmt.Errorf("%w\nminio output:\n%s", err, p.logs.String())
		}
	}
	return p, nil
}

// waitLive polls url until it answers 200, the process exits, or readyWait
// passes.
func (p *process) waitLive(url string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(readyWait)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("minio exited before %s answered: %v", url, p.err)
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("minio: %s not 200 after %s", url, readyWait)
}

// stop ends the process: SIGTERM, then SIGKILL if it lingers.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(stopWait):
		p.kill()
	}
}

// kill ends the process at once and reaps it.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// freePort asks the kernel for a free loopback TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// randHex returns n random bytes as hex.
func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
