// Package clitest checks that a command's package documentation is its
// -h text (see cli.Command.Doc).
package clitest

import (
	"bytes"
	"errors"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/examples/internal/cli"
)

// UpdateEnv names the environment variable that makes CheckDoc rewrite the
// documentation file instead of failing:
//
//	ONBOARD_UPDATE_DOC=1 go test -run TestDoc ./examples/...
const UpdateEnv = "ONBOARD_UPDATE_DOC"

// CheckDoc fails t unless the package comment of file (doc.go) is
// c.Doc(), so that "go doc" and -h say the same.
func CheckDoc(t testing.TB, c *cli.Command, file string) {
	t.Helper()
	want := c.Doc()
	got := ""
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ParseComments|parser.PackageClauseOnly)
	switch {
	case err == nil && f.Doc != nil:
		got = f.Doc.Text()
	case err != nil && (os.Getenv(UpdateEnv) == "" || !errors.Is(err, fs.ErrNotExist)):
		t.Fatal(err)
	}
	if got == want {
		return
	}
	if os.Getenv(UpdateEnv) != "" {
		if err := os.WriteFile(file, Source(want, "main"), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s", file)
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s differs from -h at line %d:\n got %q\nwant %q\n(run with %s=1 to rewrite it)", file, i+1, g, w, UpdateEnv)
		}
	}
}

// Source returns a Go file holding doc as the package comment of package
// pkg (the commands are all package main).
func Source(doc, pkg string) []byte {
	var b bytes.Buffer
	b.WriteString("// Code generated from the -h text by clitest.CheckDoc; edit the cli.Command instead.\n\n")
	for _, l := range strings.Split(strings.TrimRight(doc, "\n"), "\n") {
		switch {
		case l == "":
			b.WriteString("//\n")
		case strings.HasPrefix(l, "\t"):
			b.WriteString("//" + l + "\n")
		default:
			b.WriteString("// " + l + "\n")
		}
	}
	b.WriteString("package " + pkg + "\n")
	return b.Bytes()
}
