package hardening_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/xmpp-onboard/onboard/internal/fakeserver"
)

// Building blocks for hostile fake servers.

const (
	// secret is the password of every hostile case. It is a valid XML
	// name, so that servers can echo it even as an element name.
	secret = "Pw9kQz7xLm2vR4tB"
	// user is the username of every hostile case.
	user = "mallory"

	nsRegister = "jabber:iq:register"
	legacyForm = `<query xmlns='jabber:iq:register'><instructions>Choose a username and password.</instructions><username/><password/></query>`
	// laughs is the prolog of a billion laughs document: ten levels of
	// entities, each ten times the one below.
	laughs = `<!DOCTYPE lolz [<!ENTITY lol "lol">` +
		`<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">` +
		`<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">` +
		`<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">` +
		`<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">` +
		`<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">` +
		`<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">` +
		`<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>`
	// streamHeader is a server stream header.
	streamHeader = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' from='localhost' id='h1'>`
	// hugeInput is how much an endless server sends at most.
	hugeInput = 100 << 20
)

// errDone ends a script's loop without an error.
var errDone = errors.New("script done")

// script is a fake server that secures the stream like a real one and then
// answers what the client sends: the registration form request, the
// submission, Bits of Binary requests and SASL. Every hook may be
// replaced by hostile behaviour; a hook returning errDone ends the
// connection's handler.
type script struct {
	features string // of the secured stream; default registration + SCRAM-SHA-1
	form     func(st *fakeserver.Stream, iq *fakeserver.Element) error
	submit   func(st *fakeserver.Stream, iq *fakeserver.Element) error
	bob      func(st *fakeserver.Stream, iq *fakeserver.Element) error
	auth     func(st *fakeserver.Stream, auth *fakeserver.Element) error
	preauth  func(st *fakeserver.Stream, iq *fakeserver.Element) error
}

func (s script) handler(st *fakeserver.Stream) error {
	feats := s.features
	if feats == "" {
		feats = fakeserver.FeatureRegister + fakeserver.Mechanisms("SCRAM-SHA-1")
	}
	if err := st.Negotiate(feats); err != nil {
		return err
	}
	for {
		e, err := st.Next()
		if err != nil {
			return err
		}
		var hook func(*fakeserver.Stream, *fakeserver.Element) error
		q := e.Child("query")
		switch {
		case e.Name.Local == "auth":
			hook = s.auth
			if hook == nil {
				hook = func(st *fakeserver.Stream, _ *fakeserver.Element) error {
					return st.Sendf("<failure xmlns='%s'><not-authorized/></failure>", fakeserver.NSSASL)
				}
			}
		case e.Name.Local != "iq":
			continue
		case e.Child("data") != nil:
			hook = s.bob
		case e.Child("preauth") != nil:
			hook = s.preauth
			if hook == nil {
				hook = reply("")
			}
		case q != nil && q.Name.Space == nsRegister && e.Attr("type") == "get":
			hook = s.form
			if hook == nil {
				hook = reply(legacyForm)
			}
		case q != nil && q.Name.Space == nsRegister && e.Attr("type") == "set":
			hook = s.submit
			if hook == nil {
				hook = reply("")
			}
		}
		if hook == nil {
			hook = func(st *fakeserver.Stream, iq *fakeserver.Element) error {
				return st.ReplyError(iq, "cancel", "service-unavailable", "")
			}
		}
		switch err := hook(st, e); {
		case errors.Is(err, errDone):
			return nil
		case err != nil:
			return err
		}
	}
}

// reply answers an IQ with payload.
func reply(payload string) func(*fakeserver.Stream, *fakeserver.Element) error {
	return func(st *fakeserver.Stream, iq *fakeserver.Element) error {
		return st.Reply(iq, payload)
	}
}

// raw sends s with the IQ's id in place of "ID".
func raw(s string) func(*fakeserver.Stream, *fakeserver.Element) error {
	return func(st *fakeserver.Stream, iq *fakeserver.Element) error {
		return st.Send(strings.ReplaceAll(s, "ID", iq.Attr("id")))
	}
}

// endless sends prefix (with the IQ's id in place of "ID") and then unit
// over and over, up to hugeInput bytes or until the client goes away.
func endless(prefix, unit string) func(*fakeserver.Stream, *fakeserver.Element) error {
	return func(st *fakeserver.Stream, iq *fakeserver.Element) error {
		return flood(st, strings.ReplaceAll(prefix, "ID", iq.Attr("id")), unit)
	}
}

func flood(st *fakeserver.Stream, prefix, unit string) error {
	if err := st.Send(prefix); err != nil {
		return err
	}
	chunk := strings.Repeat(unit, max(1, 32<<10/len(unit)))
	for sent := 0; sent < hugeInput; sent += len(chunk) {
		if err := st.Send(chunk); err != nil {
			return errDone
		}
	}
	st.Stall(30 * time.Second)
	return errDone
}

// numbered sends prefix, n copies of format filled with a number, and
// suffix, in chunks, and then goes on serving.
func numbered(prefix, format, suffix string, n int) func(*fakeserver.Stream, *fakeserver.Element) error {
	return func(st *fakeserver.Stream, iq *fakeserver.Element) error {
		if err := st.Send(strings.ReplaceAll(prefix, "ID", iq.Attr("id"))); err != nil {
			return err
		}
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, format, i)
			if b.Len() > 32<<10 {
				if err := st.Send(b.String()); err != nil {
					return errDone
				}
				b.Reset()
			}
		}
		if err := st.Send(b.String() + suffix); err != nil {
			return errDone
		}
		return nil
	}
}

// trickle sends s one byte per interval ("slow loris"), then stalls.
func trickle(s string, every time.Duration) func(*fakeserver.Stream, *fakeserver.Element) error {
	return func(st *fakeserver.Stream, iq *fakeserver.Element) error {
		out := s
		if iq != nil {
			out = strings.ReplaceAll(s, "ID", iq.Attr("id"))
		}
		return drip(st, out, every)
	}
}

func drip(st *fakeserver.Stream, s string, every time.Duration) error {
	// Notice at once when the client gives up: a reader on the side sees
	// the connection end (what it reads is not kept in the transcript,
	// but a client that gave up sends nothing that matters).
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		buf := make([]byte, 512)
		for {
			if _, err := st.Conn().Read(buf); err != nil {
				return
			}
		}
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := 0; i < len(s); i++ {
		if err := st.Send(s[i : i+1]); err != nil {
			break
		}
		select {
		case <-gone:
			return errDone
		case <-tick.C:
		}
	}
	<-gone
	return errDone
}

// stall keeps the connection open and silent.
func stall(st *fakeserver.Stream, _ *fakeserver.Element) error {
	st.Stall(30 * time.Second)
	return errDone
}

// cut drops the TCP connection.
func cut(st *fakeserver.Stream, _ *fakeserver.Element) error {
	st.Cut()
	return errDone
}

// then runs the hooks in order.
func then(hooks ...func(*fakeserver.Stream, *fakeserver.Element) error) func(*fakeserver.Stream, *fakeserver.Element) error {
	return func(st *fakeserver.Stream, iq *fakeserver.Element) error {
		for _, h := range hooks {
			if err := h(st, iq); err != nil {
				return err
			}
		}
		return nil
	}
}

// queryReply wraps a query payload in an IQ result with id "ID".
func queryReply(inner string) string {
	return "<iq type='result' id='ID'><query xmlns='jabber:iq:register'>" + inner + "</query></iq>"
}

// captchaForm is a CAPTCHA registration form whose image has the content
// ID cid; extra follows the data form inside the query.
func captchaForm(cid, extra string) string {
	return `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>` +
		`<field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>` +
		`<field var='challenge' type='hidden'><value>4711</value></field>` +
		`<field var='ocr' label='Enter the text you see'><required/><media xmlns='urn:xmpp:media-element'><uri type='image/png'>cid:` + cid + `</uri></media></field>` +
		`<field var='username' type='text-single'><required/></field>` +
		`<field var='password' type='text-private'><required/></field>` +
		`</x>` + extra + `</query>`
}

func bob(cid string, data []byte) string {
	return `<data xmlns='urn:xmpp:bob' cid='` + cid + `' type='image/png'>` + base64.StdEncoding.EncodeToString(data) + `</data>`
}

// plainStream is a handler for a server that never offers STARTTLS: it
// offers registration and PLAIN on the plain-text stream and accepts
// whatever comes.
func plainStream(st *fakeserver.Stream) error {
	if err := st.Open(fakeserver.FeatureRegister + fakeserver.Mechanisms("PLAIN")); err != nil {
		return err
	}
	for {
		e, err := st.Next()
		if err != nil {
			return err
		}
		switch e.Name.Local {
		case "iq":
			st.Reply(e, legacyForm)
		case "auth":
			st.Sendf("<success xmlns='%s'/>", fakeserver.NSSASL)
		}
	}
}

// rawPrelude is a handler that reads the client's stream header and
// answers with whatever then does.
func rawPrelude(then func(st *fakeserver.Stream) error) func(st *fakeserver.Stream) error {
	return func(st *fakeserver.Stream) error {
		if _, err := st.ReadHeader(); err != nil {
			return err
		}
		if err := then(st); err != nil && !errors.Is(err, errDone) {
			return err
		}
		return nil
	}
}

// goodServer is an honest server: it serves the legacy form, creates the
// account and lets the client log in with SCRAM-SHA-1 and bind.
func goodServer(st *fakeserver.Stream) error {
	if err := st.Negotiate(fakeserver.FeatureRegister + fakeserver.FeatureIBRToken + fakeserver.Mechanisms("SCRAM-SHA-1")); err != nil {
		return err
	}
	var name, pass string
	for pass == "" {
		e, err := st.Next()
		if err != nil {
			return err
		}
		q := e.Child("query")
		switch {
		case e.Name.Local != "iq":
		case e.Child("preauth") != nil:
			st.Reply(e, "")
		case q != nil && q.Name.Space == nsRegister && e.Attr("type") == "get":
			st.Reply(e, legacyForm)
		case q != nil && q.Name.Space == nsRegister && e.Attr("type") == "set":
			name, _ = e.Field("username")
			pass, _ = e.Field("password")
			st.Reply(e, "")
		default:
			st.ReplyError(e, "cancel", "service-unavailable", "")
		}
	}
	u, err := st.SASL(func(u string) (string, bool) { return pass, u == name })
	if err != nil {
		return err
	}
	return st.Bind(u)
}

// scramFirst answers a SCRAM <auth/> with a server-first-message built
// from format, whose %s is the client's nonce.
func scramFirst(format string) func(*fakeserver.Stream, *fakeserver.Element) error {
	return scramAnswer("challenge", format)
}

// scramSuccess answers a SCRAM <auth/> at once with a <success/> whose
// data is built from format (%s is the client's nonce), then binds a
// session if the client goes on: a server that pretends the login worked
// without proving anything.
func scramSuccess(format string) func(*fakeserver.Stream, *fakeserver.Element) error {
	send := scramAnswer("success", format)
	return func(st *fakeserver.Stream, auth *fakeserver.Element) error {
		if err := send(st, auth); err != nil {
			return err
		}
		st.Restart()
		return st.Bind("juliet")
	}
}

// scramAnswer answers a SCRAM <auth/> with the element name whose data
// is built from format, whose %s is the client's nonce.
func scramAnswer(name, format string) func(*fakeserver.Stream, *fakeserver.Element) error {
	return func(st *fakeserver.Stream, auth *fakeserver.Element) error {
		first, err := base64.StdEncoding.DecodeString(strings.TrimSpace(auth.Text))
		if err != nil {
			return err
		}
		i := strings.Index(string(first), "r=")
		if i < 0 {
			return fmt.Errorf("no nonce in %q", first)
		}
		msg := fmt.Sprintf(format, first[i+2:])
		return st.Sendf("<%s xmlns='%s'>%s</%[1]s>", name, fakeserver.NSSASL, base64.StdEncoding.EncodeToString([]byte(msg)))
	}
}

// scramThenSuccess answers a SCRAM <auth/> with a server-first-message
// built from format (%s is the client's nonce) and the client's response
// with a <success/> that carries the same message again instead of the
// server's signature.
func scramThenSuccess(format string) func(*fakeserver.Stream, *fakeserver.Element) error {
	return func(st *fakeserver.Stream, auth *fakeserver.Element) error {
		first, err := base64.StdEncoding.DecodeString(strings.TrimSpace(auth.Text))
		if err != nil {
			return err
		}
		i := strings.Index(string(first), "r=")
		if i < 0 {
			return fmt.Errorf("no nonce in %q", first)
		}
		msg := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf(format, first[i+2:])))
		if err := st.Sendf("<challenge xmlns='%s'>%s</challenge>", fakeserver.NSSASL, msg); err != nil {
			return err
		}
		if _, err := st.Next(); err != nil {
			return err
		}
		return st.Sendf("<success xmlns='%s'>%s</success>", fakeserver.NSSASL, msg)
	}
}
