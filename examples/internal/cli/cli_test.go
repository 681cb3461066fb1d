package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func testCommand() (*Command, *bool, *string) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	j := fs.Bool("json", false, "print JSON")
	u := fs.String("user", "", "log in as this `account`")
	fs.Duration("timeout", 30*time.Second, "time limit")
	return &Command{Name: "t", Summary: "t tests.", Usage: []string{"t [flags] domain..."}, Examples: "t a.example  # one", Exits: "0   fine", Flags: fs}, j, u
}

func TestParseAnywhere(t *testing.T) {
	for _, c := range []struct {
		args []string
		pos  string
		user string
		json bool
	}{
		{[]string{"-json", "-user", "me", "a", "b"}, "[a b]", "me", true},
		{[]string{"a", "-json", "b", "-user", "me"}, "[a b]", "me", true},
		{[]string{"a", "--", "-json", "-user"}, "[a -json -user]", "", false},
		{[]string{"-user", "me", "-"}, "[-]", "me", false},
	} {
		cmd, j, u := testCommand()
		var out, errb bytes.Buffer
		pos, code, done := cmd.Parse(c.args, &out, &errb)
		if done || code != 0 || fmt.Sprint(pos) != c.pos || *u != c.user || *j != c.json {
			t.Errorf("%q: %q %d %v json=%v user=%q; stderr %q", c.args, pos, code, done, *j, *u, errb.String())
		}
	}
	cmd, _, _ := testCommand()
	var out, errb bytes.Buffer
	if _, code, done := cmd.Parse([]string{"a", "-h"}, &out, &errb); !done || code != 0 || out.String() != cmd.Help() || errb.Len() != 0 {
		t.Errorf("-h: %d %v %q %q", code, done, out.String(), errb.String())
	}
	out.Reset()
	if _, code, done := cmd.Parse([]string{"a", "-nope"}, &out, &errb); !done || code != 2 || out.Len() != 0 || !strings.Contains(errb.String(), "t -h") {
		t.Errorf("-nope: %d %v %q", code, done, errb.String())
	}
}

func TestHelpLayout(t *testing.T) {
	cmd, _, _ := testCommand()
	want := "t tests.\n\nUsage:\n\n\tt [flags] domain...\n\nExamples:\n\n\tt a.example  # one\n\nFlags:\n\n" +
		"\t-json              print JSON\n\t-timeout duration  time limit (default 30s)\n\t-user account      log in as this account\n\nExit status:\n\n\t0   fine\n"
	if got := cmd.Help(); got != want {
		t.Errorf("help:\n%s\nwant:\n%s", got, want)
	}
}

func TestEncodeJSON(t *testing.T) {
	b, err := EncodeJSON(struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	}{"x\u202e\u009b", "https://a.example/?a=1&b=<2>"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"format":1,"name":"x\u202e\u009b","url":"https://a.example/?a=1&b=<2>"}` + "\n"; string(b) != want {
		t.Errorf("got %s want %s", b, want)
	}
	b, _ = EncodeJSON(struct {
		A int `json:"a"`
	}{1}, true, Field{Key: "exit", Value: 3}, Field{Key: "problem", Value: "<bad>\u202e"})
	if want := `{"format":1,"exit":3,"problem":"<bad>\u202e","a":1}` + "\n"; string(b) != want {
		t.Errorf("extra fields: got %s want %s", b, want)
	}
	b, _ = EncodeJSON(struct{}{}, false)
	var v map[string]int
	if json.Unmarshal(b, &v) != nil || v["format"] != 1 {
		t.Errorf("empty object: %s", b)
	}
	if _, err := EncodeJSON([]int{1}, false); err == nil {
		t.Error("an array was accepted")
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"yax.im", "jabber.fr", "jabber.de", "conversations.im", "Chatrix.one"}
	for _, c := range []struct{ in, want string }{
		{"yax.iim", "[yax.im]"},
		{"jabber.dee", "[jabber.de]"},
		{"jaber.fr", "[jabber.fr]"},
		{"chatrix.on", "[Chatrix.one]"},
		{"conversation.im", "[conversations.im]"},
		{"yax.im", "[]"},
		{"example.org", "[]"},
	} {
		if got := fmt.Sprint(Suggest(c.in, names)); got != c.want {
			t.Errorf("Suggest(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	if got := DidYouMean("jabber.xx", names); got != " (did you mean jabber.de or jabber.fr?)" {
		t.Errorf("DidYouMean = %q", got)
	}
}

func TestProgressPlain(t *testing.T) {
	var b bytes.Buffer
	clock := time.Unix(0, 0)
	no := false
	p := NewProgress(&b, "probe", 3, &no, func() time.Time { return clock })
	clock = clock.Add(time.Second)
	p.Done("a.example", true, "reachable")
	clock = clock.Add(time.Second)
	p.Done("b\x1b[2J.example", false, "connection refused")
	p.Done("c.example", true, "reachable")
	p.Finish()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 || lines[0] != "probe: [1/3] a.example: reachable (2s left)" ||
		lines[1] != `probe: [2/3] b\x1b[2J.example: connection refused (1s left)` || lines[2] != "probe: [3/3] c.example: reachable" {
		t.Errorf("%q", lines)
	}
}

func TestProgressTerminal(t *testing.T) {
	var b bytes.Buffer
	yes := true
	p := NewProgress(&b, "probe", 2, &yes, nil)
	p.Done("a.example", false, "")
	p.Done("b.example", true, "")
	p.Finish()
	if s := b.String(); strings.Count(s, "\r") != 2 || !strings.Contains(s, "2/2, 1 failed") || !strings.HasSuffix(s, "\n") || strings.Contains(s, "a.example") {
		t.Errorf("%q", s)
	}
}

func TestPasswordAndPrompt(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == PasswordEnv {
				return v
			}
			return ""
		}
	}
	var errb bytes.Buffer
	p := NewPrompter(nil, &errb)
	ctx := context.Background()
	if pw, err := Password(ctx, env("from-env"), p, "Password: ", false); pw != "from-env" || err != nil || errb.Len() != 0 {
		t.Errorf("env: %q %v, prompt %q", pw, err, errb.String())
	}
	if _, err := Password(ctx, env(""), p, "Password: ", false); !errors.Is(err, ErrNoPassword) {
		t.Errorf("no stdin: %v", err)
	}
	if pw, err := Password(ctx, env(""), p, "Password: ", true); pw != "" || err != nil {
		t.Errorf("no stdin, empty allowed: %q %v", pw, err)
	}
	p = &Prompter{In: bufio.NewReader(strings.NewReader("typed\r\n")), Out: &errb}
	if pw, err := Password(ctx, env(""), p, "Password: ", false); pw != "typed" || err != nil {
		t.Errorf("typed: %q %v", pw, err)
	}
	// A prompt waiting for input returns when the context ends.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	defer r.Close()
	cctx, cancel := context.WithCancel(ctx)
	p = NewPrompter(r, &errb)
	go cancel()
	if _, err := p.Line(cctx, "Answer: ", false); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled prompt: %v", err)
	}
}

func TestTempFiles(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	var tf TempFiles
	f, err := tf.Create("x-*.png")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	tf.Remove()
	if _, err := os.Stat(f.Name()); !os.IsNotExist(err) {
		t.Errorf("%s not removed: %v", f.Name(), err)
	}
}
