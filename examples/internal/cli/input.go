package cli

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/xmpp-onboard/onboard/internal/sanitize"
)

// Prompter asks questions on Out (standard error) and reads the answers,
// one line each, from In (standard input).
type Prompter struct {
	In   *bufio.Reader
	File *os.File // In's file, for stty when it is a terminal; may be nil
	Out  io.Writer
}

// NewPrompter reads from stdin and asks on stderr.
func NewPrompter(stdin *os.File, stderr io.Writer) *Prompter {
	var r io.Reader = stdin
	if stdin == nil {
		r = strings.NewReader("")
	}
	return &Prompter{In: bufio.NewReader(r), File: stdin, Out: stderr}
}

// Line prints prompt (through sanitize.Line: it may hold a label a server
// chose) and reads one line; secret turns the echo off on a terminal. It
// returns ctx's error as soon as ctx is done (Ctrl-C), without waiting for
// the line (a Prompter whose context ended is not to be used again: the
// read goes on in the background).
func (p *Prompter) Line(ctx context.Context, prompt string, secret bool) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	fmt.Fprint(p.Out, sanitize.Line(prompt))
	if secret && IsTerminal(p.File) {
		if err := stty(p.File, "-echo"); err == nil {
			defer func() {
				stty(p.File, "echo")
				fmt.Fprintln(p.Out)
			}()
		}
	}
	type answer struct {
		s   string
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		s, err := p.In.ReadString('\n')
		ch <- answer{s, err}
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(p.Out)
		return "", ctx.Err()
	case a := <-ch:
		if a.err != nil && (a.err != io.EOF || a.s == "") {
			return "", fmt.Errorf("reading standard input: %w", a.err)
		}
		return strings.TrimRight(a.s, "\r\n"), nil
	}
}

// stty runs stty on the terminal f.
func stty(f *os.File, arg string) error {
	cmd := exec.Command("stty", arg)
	cmd.Stdin = f
	return cmd.Run()
}

// ErrNoPassword is returned by Password when neither the environment nor
// standard input gave one.
var ErrNoPassword = errors.New("no password: set $" + PasswordEnv + " or type it when asked")

// Password returns $ONBOARD_PASSWORD or, if that is empty, the line the
// user types after prompt (echo off on a terminal). An empty answer (or
// none) is returned as "" with no error when allowEmpty (signup then
// generates one); otherwise it is ErrNoPassword.
func Password(ctx context.Context, getenv func(string) string, p *Prompter, prompt string, allowEmpty bool) (string, error) {
	if pw := getenv(PasswordEnv); pw != "" {
		return pw, nil
	}
	pw, err := p.Line(ctx, prompt, true)
	if err != nil {
		if errors.Is(err, io.EOF) && !allowEmpty {
			return "", ErrNoPassword
		}
		if !errors.Is(err, io.EOF) {
			return "", err
		}
	}
	if pw == "" && !allowEmpty {
		return "", ErrNoPassword
	}
	return pw, nil
}

// CertPool returns the system roots with the certificates of the PEM file
// name added (-cafile: trust these in addition to the system roots), or
// nil for "".
func CertPool(name string) (*x509.CertPool, error) {
	if name == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no PEM certificates in %s", name)
	}
	return pool, nil
}

// TempFiles remembers temporary files to remove when the command ends
// (deferred Remove, which also runs on Ctrl-C since the commands end by
// returning from run when their context is cancelled).
type TempFiles struct{ names []string }

// Create makes a new file in the temporary directory (os.CreateTemp) and
// remembers it.
func (t *TempFiles) Create(pattern string) (*os.File, error) {
	f, err := os.CreateTemp("", pattern)
	if err == nil {
		t.names = append(t.names, f.Name())
	}
	return f, err
}

// Remove removes every file made by Create.
func (t *TempFiles) Remove() {
	for _, n := range t.names {
		os.Remove(n)
	}
	t.names = nil
}
