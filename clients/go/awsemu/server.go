package awsemu

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is one running `awsemu serve` process. Its methods are safe for concurrent use.
type Server struct {
	endpoint  string
	region    string
	accountID string
	iam       string
	keys      map[string]Credentials // the start-up table, by principal name

	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited
	waitErr error         // the process's exit, valid once exited is closed
	output  *tail
	http    *http.Client
	cleanup []string // temporary files to remove on Close

	closeOnce sync.Once
	closeErr  error
}

// Option configures a Server before it starts.
type Option func(*settings)

type settings struct {
	binary       string
	args         []string
	configJSON   []byte
	output       io.Writer
	startTimeout time.Duration
}

// WithBinary runs this awsemu binary instead of looking for one.
func WithBinary(path string) Option { return func(s *settings) { s.binary = path } }

// WithSeed fixes every generated id (`--seed`), so runs repeat exactly.
func WithSeed(seed uint64) Option {
	return WithArgs("--seed", strconv.FormatUint(seed, 10))
}

// WithIAM sets the IAM mode (`--iam`): "enforce" (the default), "audit" or "off".
func WithIAM(mode string) Option { return WithArgs("--iam", mode) }

// WithRegion sets the default region (`--region`), the one Region answers.
func WithRegion(region string) Option { return WithArgs("--region", region) }

// WithAccountID sets the account every resource lives in (`--account-id`).
func WithAccountID(id string) Option { return WithArgs("--account-id", id) }

// WithTiming sets the timing profile (`--timing`): "instant" (the default), "fast" or "realistic".
func WithTiming(profile string) Option { return WithArgs("--timing", profile) }

// WithConfig loads a config file (`--config`): principals, roles, policies, faults.
func WithConfig(path string) Option { return WithArgs("--config", path) }

// WithConfigJSON loads a config given inline; it is written to a temporary file that Close removes.
func WithConfigJSON(config []byte) Option {
	return func(s *settings) { s.configJSON = append([]byte(nil), config...) }
}

// WithScenario loads a scenario's world and faults (`--scenario`); Close then fails when its
// final expectations do not hold.
func WithScenario(path string) Option { return WithArgs("--scenario", path) }

// WithStateFile keeps the world in a file (`--state-file`): restored at start when it exists,
// written at Close (SIGTERM) and by SaveState.
func WithStateFile(path string) Option { return WithArgs("--state-file", path) }

// WithArgs passes further flags to `awsemu serve` (see `awsemu serve --help`).
func WithArgs(args ...string) Option {
	return func(s *settings) { s.args = append(s.args, args...) }
}

// WithOutput copies the server's log (stderr) and anything it prints after its start-up banner
// to w, e.g. os.Stderr while debugging. Without it the last 64 KiB are kept for error messages.
func WithOutput(w io.Writer) Option { return func(s *settings) { s.output = w } }

// WithStartTimeout bounds how long New waits for the server's banner (default 60 s).
func WithStartTimeout(d time.Duration) Option { return func(s *settings) { s.startTimeout = d } }

// Start starts a server for t and stops it when t's test ends (t.Cleanup). It fails the test
// when the server cannot start, and reports an error when the server does not stop cleanly
// (e.g. a scenario's expectations failed).
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := New(opts...)
	if err != nil {
		t.Fatalf("awsemu: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("awsemu: %v", err)
		}
	})
	return s
}

// New starts a server and returns once it accepts requests. The caller must Close it.
func New(opts ...Option) (*Server, error) {
	set := settings{startTimeout: 60 * time.Second}
	for _, o := range opts {
		o(&set)
	}
	s := &Server{
		output: &tail{max: 64 << 10},
		exited: make(chan struct{}),
		http:   &http.Client{Timeout: 60 * time.Second},
	}
	bin := set.binary
	if bin == "" {
		var err error
		if bin, err = findBinary(); err != nil {
			return nil, err
		}
	}
	args := []string{"serve", "--bind", "127.0.0.1", "--port", "0"}
	if set.configJSON != nil {
		f, err := os.CreateTemp("", "awsemu-config-*.json")
		if err != nil {
			return nil, err
		}
		s.cleanup = append(s.cleanup, f.Name())
		_, werr := f.Write(set.configJSON)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			s.removeTemp()
			return nil, werr
		}
		args = append(args, "--config", f.Name())
	}
	args = append(args, set.args...)

	cmd := exec.Command(bin, args...)
	cmd.Env = childEnv()
	setSysProcAttr(cmd)
	var logs io.Writer = s.output
	if set.output != nil {
		logs = io.MultiWriter(s.output, set.output)
	}
	cmd.Stderr = logs
	// A pipe of our own rather than StdoutPipe: Wait must not close it under the reader.
	pr, pw, err := os.Pipe()
	if err != nil {
		s.removeTemp()
		return nil, err
	}
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		s.removeTemp()
		return nil, fmt.Errorf("cannot run %s: %w", bin, err)
	}
	pw.Close()
	s.cmd = cmd
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	type result struct {
		b   banner
		err error
	}
	got := make(chan result, 1)
	go func() {
		r := bufio.NewReader(pr)
		b, err := readBanner(r)
		got <- result{b, err}
		if err == nil {
			_, _ = io.Copy(logs, r)
		}
		pr.Close()
	}()
	timer := time.NewTimer(set.startTimeout)
	defer timer.Stop()
	var res result
	select {
	case res = <-got:
	case <-timer.C:
		res.err = fmt.Errorf("no start-up banner within %v", set.startTimeout)
	}
	if res.err != nil {
		_ = cmd.Process.Kill()
		<-s.exited
		s.removeTemp()
		return nil, fmt.Errorf("%s %s: %v (%s)%s", bin, strings.Join(args, " "), res.err, exitText(s.waitErr), s.output.text())
	}
	s.endpoint, s.region, s.accountID, s.iam, s.keys = res.b.endpoint, res.b.region, res.b.account, res.b.iam, res.b.keys
	return s, nil
}

// Endpoint is the server's URL, http://127.0.0.1:PORT, for every service (AWS_ENDPOINT_URL).
func (s *Server) Endpoint() string { return s.endpoint }

// Region is the server's default region (us-east-1 unless WithRegion).
func (s *Server) Region() string { return s.region }

// AccountID is the account every resource lives in (123456789012 unless WithAccountID).
func (s *Server) AccountID() string { return s.accountID }

// IAM is the IAM mode the server runs under: "enforce", "audit" or "off".
func (s *Server) IAM() string { return s.iam }

// Output is what the server has logged lately (its stderr and post-banner stdout, last 64 KiB).
func (s *Server) Output() string { return s.output.text() }

// Close stops the server (SIGTERM, then a kill after 10 s) and removes its temporary files. It
// answers an error when the server did not exit cleanly. Later calls answer the same.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		defer s.removeTemp()
		select {
		case <-s.exited:
			s.closeErr = fmt.Errorf("the server had already exited (%s)%s", exitText(s.waitErr), s.output.text())
			return
		default:
		}
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			_ = s.cmd.Process.Kill()
		}
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
			s.closeErr = fmt.Errorf("the server did not stop within 10 s of SIGTERM; killed%s", s.output.text())
			return
		}
		// The server may not have installed its SIGTERM handler yet (it prints the banner
		// first): dying of the signal we sent is a clean stop too.
		if s.waitErr != nil && !killedBy(s.waitErr, syscall.SIGTERM) {
			s.closeErr = fmt.Errorf("the server stopped with %s%s", exitText(s.waitErr), s.output.text())
		}
	})
	return s.closeErr
}

func (s *Server) removeTemp() {
	for _, f := range s.cleanup {
		_ = os.Remove(f)
	}
	s.cleanup = nil
}

// childEnv is this process's environment without AWSEMU_* settings (awsemu reads its flags from
// them), so that a server is configured by its options alone.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWSEMU_") {
			env = append(env, kv)
		}
	}
	return env
}

func killedBy(err error, sig syscall.Signal) bool {
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return false
	}
	ws, ok := exit.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// banner is what `awsemu serve` prints at start:
//
//	awsemu 0.1.0 listening on http://127.0.0.1:45875
//	account 123456789012  default region us-east-1  iam Enforce
//
//	principal      access key id        secret access key    policies
//	admin          test                 test                 AdministratorAccess
//	...
//
//	export AWS_ENDPOINT_URL=http://127.0.0.1:45875
type banner struct {
	endpoint, region, account, iam string
	keys                           map[string]Credentials
}

func readBanner(r *bufio.Reader) (banner, error) {
	b := banner{keys: map[string]Credentials{}}
	inTable := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) {
				return b, errors.New("the server closed its output before printing its endpoint")
			}
			return b, err
		}
		line = strings.TrimRight(line, "\r\n")
		fields := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "export AWS_ENDPOINT_URL="):
			b.endpoint = strings.TrimPrefix(line, "export AWS_ENDPOINT_URL=")
			if b.region == "" {
				return b, fmt.Errorf("the banner named no region")
			}
			return b, nil
		case len(fields) >= 6 && fields[0] == "account" && fields[2] == "default" && fields[3] == "region":
			b.account, b.region = fields[1], fields[4]
			if len(fields) >= 7 && fields[5] == "iam" {
				b.iam = strings.ToLower(fields[6])
			}
		case len(fields) >= 2 && fields[0] == "principal" && fields[1] == "access":
			inTable = true
		case inTable && len(fields) == 0:
			inTable = false
		case inTable && len(fields) >= 3:
			if _, seen := b.keys[fields[0]]; !seen { // a principal's first key, as awsemu sorts them
				b.keys[fields[0]] = Credentials{AccessKeyID: fields[1], SecretAccessKey: fields[2]}
			}
		}
	}
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// text is the kept output as a suffix for error messages ("" when there is none).
func (t *tail) text() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := bytes.TrimSpace(t.buf)
	if len(out) == 0 {
		return ""
	}
	return "\nawsemu output:\n" + string(out)
}
