package register

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"

	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

// ChangePassword changes the password of the account s is logged in to
// (XEP-0077 §3.3). oldPassword is only used if the server answers with a
// jabber:iq:register:changepassword form that asks for it; then the form
// is filled (username, old_password, password) and sent. If that form
// needs more, the returned *Error has KindFormRequired and the form in
// Error.Form; fill it and pass it to [SubmitForm].
//
// s must be served: its Serve method must be running in another goroutine,
// or the reply is never read. ctx bounds the wait.
func ChangePassword(ctx context.Context, s *xmpp.Session, oldPassword, newPassword string) error {
	if newPassword == "" || !xmppconn.ValidString(newPassword) {
		return &Error{Op: opChangePW, Kind: KindWeakPassword, Err: errors.New("the new password is empty or not valid text")}
	}
	user := s.LocalAddr().Localpart()
	q := newNode(NS, "query").Add(
		newNode(NS, "username").WithText(user),
		newNode(NS, "password").WithText(newPassword),
	)
	err := sendAccountIQ(ctx, s, opChangePW, q, oldPassword, newPassword)
	var e *Error
	if errors.As(err, &e) && e.Kind == KindFormRequired && e.Form != nil && e.Form.FormType == FormTypeChangePassword {
		f := e.Form
		fill(f, "username", user)
		fill(f, "old_password", oldPassword)
		fill(f, "password", newPassword)
		if len(f.Missing()) == 0 {
			return SubmitForm(ctx, s, f)
		}
	}
	return err
}

// Remove deletes the account s is logged in to (XEP-0077 §3.2). password
// is only used if the server answers with a jabber:iq:register:cancel form
// that asks for it (see [ChangePassword] for KindFormRequired).
//
// Servers end the stream right after the reply (Prosody with a
// not-authorized stream error, ejabberd with conflict), so s.Serve returns
// an error after a successful Remove. s must be served; ctx bounds the
// wait.
func Remove(ctx context.Context, s *xmpp.Session, password string) error {
	q := newNode(NS, "query").Add(newNode(NS, "remove"))
	err := sendAccountIQ(ctx, s, opRemove, q, password)
	var e *Error
	if errors.As(err, &e) && e.Kind == KindFormRequired && e.Form != nil && e.Form.FormType == FormTypeCancel {
		f := e.Form
		fill(f, "username", s.LocalAddr().Localpart())
		fill(f, "password", password)
		if len(f.Missing()) == 0 {
			return SubmitForm(ctx, s, f)
		}
	}
	return err
}

// SubmitForm sends a form the server asked for in an error to
// [ChangePassword] or [Remove] (FORM_TYPE jabber:iq:register:changepassword
// or jabber:iq:register:cancel) on the logged-in session s.
func SubmitForm(ctx context.Context, s *xmpp.Session, f *Form) error {
	op := opChangePW
	if f.FormType == FormTypeCancel {
		op = opRemove
	}
	if m := f.Missing(); len(m) > 0 {
		e := &Error{Op: op, Kind: KindFormIncomplete}
		for _, fl := range m {
			e.Fields = append(e.Fields, fl.Var)
		}
		return e
	}
	return sendAccountIQ(ctx, s, op, f.submission(), f.secrets()...)
}

// fill sets a field if the form has it and it is empty.
func fill(f *Form, name, value string) {
	if fl := f.Field(name); fl != nil && fl.Value() == "" && value != "" {
		fl.Values = []string{value}
	}
}

// sendAccountIQ sends an IQ set with payload q to the server and
// interprets the reply. A removal goes without a to address: XEP-0077
// §3.2 says a cancellation with the home server SHOULD NOT carry one (the
// server removes the account of the stream); a password change is
// addressed to the domain, as in XEP-0077 §3.3.
func sendAccountIQ(ctx context.Context, s *xmpp.Session, op string, q *node, secrets ...string) error {
	var to jid.JID
	if op != opRemove {
		to = s.LocalAddr().Domain()
	}
	resp, err := s.SendIQ(ctx, stanza.IQ{Type: stanza.SetIQ, To: to}.Wrap(q.Tokens()))
	if err != nil {
		return &opError{op: op, err: err}
	}
	defer resp.Close()
	d := xml.NewTokenDecoder(resp)
	tok, err := d.Token()
	if err != nil {
		return &opError{op: op, err: err}
	}
	start, ok := tok.(xml.StartElement)
	if !ok {
		return &opError{op: op, err: &ProtocolError{Msg: fmt.Sprintf("expected an IQ, got %T", tok)}}
	}
	reply, err := xmppconn.ReadTree(d, start)
	if err != nil {
		return &opError{op: op, err: fromCore(err)}
	}
	if reply.Get("type") != "error" {
		return nil
	}
	se := parseStanzaError(reply)
	e := stanzaErr(op, se, nil, secrets...)
	if qn := reply.Child(NS, "query"); qn != nil {
		if f, err := parseQuery(qn); err == nil && f.IsDataForm && len(f.Fields) > 0 &&
			(f.FormType == FormTypeChangePassword || f.FormType == FormTypeCancel) {
			f.scrubSecrets(secrets...)
			e.Form = f
			e.Kind = KindFormRequired
		}
	}
	return e
}
