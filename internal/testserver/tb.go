package testserver

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// TB is the subset of [testing.TB] this package needs. *testing.T,
// *testing.B and *testing.F satisfy it, and so does [*Runner] for use
// outside of "go test".
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Cleanup(func())
	TempDir() string
	Logf(format string, args ...any)
}

// Runner is a minimal [TB] for programs that are not tests, such as
// benchmark programs started with "go run". Cleanup functions run, last
// registered first, when Close is called.
//
// Fatalf and Skipf do not exit the program: they panic with a [*Failure].
// Use [Runner.Try] to turn such a panic into an error, and defer
// [Runner.Close] so that servers are stopped even if the panic is not
// recovered (deferred calls run while a panic unwinds the stack).
//
// A Runner is safe for concurrent use.
type Runner struct {
	// Output receives Logf output. Nil discards it.
	Output io.Writer

	mu       sync.Mutex
	dir      string // base directory for TempDir
	ownDir   bool   // dir was created by the Runner and is removed by Close
	n        int    // TempDir counter
	created  []string
	cleanups []func()
	closed   bool
}

// Failure is the value a [Runner] panics with from Fatalf and Skipf.
type Failure struct {
	// Skip is true when the failure came from Skipf (for example, a server
	// binary is not installed).
	Skip bool
	// Msg is the formatted message.
	Msg string
}

// Error implements error.
func (f *Failure) Error() string {
	if f.Skip {
		return "skipped: " + f.Msg
	}
	return f.Msg
}

// ErrSkipped is matched by errors.Is for a [*Failure] that came from Skipf.
var ErrSkipped = errors.New("testserver: skipped")

// Is reports whether target is [ErrSkipped] and f is a skip.
func (f *Failure) Is(target error) bool { return target == ErrSkipped && f.Skip }

// NewRunner returns a Runner whose TempDir creates directories inside dir.
// If dir is "", a new directory is created in [os.TempDir] on first use and
// removed by Close. Directories created by TempDir are always removed by
// Close.
func NewRunner(dir string) *Runner {
	return &Runner{dir: dir}
}

// Helper does nothing; it exists to satisfy [TB].
func (r *Runner) Helper() {}

// Logf writes a line to r.Output, if set.
func (r *Runner) Logf(format string, args ...any) {
	r.mu.Lock()
	w := r.Output
	r.mu.Unlock()
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

// Fatalf panics with a [*Failure] holding the formatted message.
func (r *Runner) Fatalf(format string, args ...any) {
	panic(&Failure{Msg: fmt.Sprintf(format, args...)})
}

// Skipf panics with a [*Failure] with Skip set.
func (r *Runner) Skipf(format string, args ...any) {
	panic(&Failure{Skip: true, Msg: fmt.Sprintf(format, args...)})
}

// Cleanup registers f to be called by Close. If the Runner is already
// closed, f is called at once.
func (r *Runner) Cleanup(f func()) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		f()
		return
	}
	r.cleanups = append(r.cleanups, f)
	r.mu.Unlock()
}

// TempDir creates and returns a new, empty directory that Close removes. It
// panics with a [*Failure] if the directory cannot be created.
func (r *Runner) TempDir() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dir == "" {
		d, err := os.MkdirTemp("", "testserver-")
		if err != nil {
			panic(&Failure{Msg: fmt.Sprintf("testserver: creating temp dir: %v", err)})
		}
		r.dir, r.ownDir = d, true
	}
	r.n++
	d := filepath.Join(r.dir, strconv.Itoa(r.n))
	for {
		err := os.Mkdir(d, 0o700)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) {
			panic(&Failure{Msg: fmt.Sprintf("testserver: creating temp dir: %v", err)})
		}
		r.n++
		d = filepath.Join(r.dir, strconv.Itoa(r.n))
	}
	r.created = append(r.created, d)
	return d
}

// Close runs the registered cleanup functions, last registered first, then
// removes the directories created by TempDir. It is idempotent. A panic in a
// cleanup function does not stop the others; the first one is returned as an
// error.
func (r *Runner) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	cleanups := r.cleanups
	r.cleanups = nil
	r.mu.Unlock()

	var first error
	for i := len(cleanups) - 1; i >= 0; i-- {
		func() {
			defer func() {
				if v := recover(); v != nil && first == nil {
					if err, ok := v.(error); ok {
						first = err
					} else {
						first = fmt.Errorf("testserver: cleanup panicked: %v", v)
					}
				}
			}()
			cleanups[i]()
		}()
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range r.created {
		if err := os.RemoveAll(d); err != nil && first == nil {
			first = err
		}
	}
	r.created = nil
	if r.ownDir {
		if err := os.RemoveAll(r.dir); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Try calls f and returns the [*Failure] it panicked with, if any. Other
// panics are not recovered. Use it around calls such as StartProsody(r, …)
// to get an error instead of a panic:
//
//	var srv *testserver.Server
//	if err := r.Try(func() { srv = testserver.StartProsody(r, cfg) }); err != nil {
//		if errors.Is(err, testserver.ErrSkipped) { /* not installed */ }
//		return err
//	}
func (r *Runner) Try(f func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if fl, ok := v.(*Failure); ok {
				err = fl
				return
			}
			panic(v)
		}
	}()
	f()
	return nil
}
