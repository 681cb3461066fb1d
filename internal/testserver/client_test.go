package testserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// This file is a deliberately tiny, hand-written XMPP client used to check
// the servers: stream headers, STARTTLS, SASL PLAIN, bind and IQs. It does
// not use mellium so that the harness tests do not depend on the code the
// harness is meant to test.

const (
	nsTLS      = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL     = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsRegister = "http://jabber.org/features/iq-register"
	nsIBRToken = "urn:xmpp:ibr-token:0"
)

// elem is any XML element with its attributes and raw content.
type elem struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Inner   string     `xml:",innerxml"`
	Kids    []elem     `xml:",any"`
}

func (e elem) attr(local string) string {
	for _, a := range e.Attrs {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

func (e elem) has(space, local string) bool {
	for _, k := range e.Kids {
		if k.XMLName.Space == space && k.XMLName.Local == local {
			return true
		}
	}
	return false
}

func (e elem) String() string {
	return fmt.Sprintf("<%s xmlns=%q %v>%s</%s>", e.XMLName.Local, e.XMLName.Space, e.Attrs, e.Inner, e.XMLName.Local)
}

// client is one XMPP c2s connection.
type client struct {
	t        testing.TB
	conn     net.Conn
	dec      *xml.Decoder
	domain   string
	from     string // if set, the stream header's from (SASL2 is offered only then)
	features elem
	id       int
}

// dialClientFrom is dialClient with a from='from' on every stream header.
func dialClientFrom(t testing.TB, s *Server, from string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := s.Dial(ctx)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	c := &client{t: t, conn: conn, domain: s.Domain, from: from}
	c.openStream()
	return c
}

// dialClient connects to s.Addr (or, with direct, to s.DirectTLSAddr with
// TLS) for the given host and reads the first stream features.
func dialClient(t testing.TB, s *Server, host string, direct bool) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var conn net.Conn
	var err error
	if direct {
		cfg := s.TLSConfig()
		cfg.ServerName = host
		d := tls.Dialer{Config: cfg}
		conn, err = d.DialContext(ctx, "tcp", s.DirectTLSAddr)
	} else {
		conn, err = s.Dial(ctx)
	}
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	c := &client{t: t, conn: conn, domain: host}
	c.openStream()
	return c
}

func (c *client) write(format string, args ...any) {
	c.t.Helper()
	if _, err := fmt.Fprintf(c.conn, format, args...); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next reads the next top-level element.
func (c *client) next() elem {
	c.t.Helper()
	for {
		tok, err := c.dec.Token()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			var e elem
			if err := c.dec.DecodeElement(&e, &se); err != nil {
				c.t.Fatalf("decode <%s>: %v", se.Name.Local, err)
			}
			return e
		}
		if ee, ok := tok.(xml.EndElement); ok && ee.Name.Local == "stream" {
			c.t.Fatalf("stream closed by server")
		}
	}
}

// openStream sends a stream header and reads the features.
func (c *client) openStream() {
	c.t.Helper()
	from := ""
	if c.from != "" {
		from = fmt.Sprintf(" from='%s'", c.from)
	}
	c.write("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='%s'%s version='1.0'>", c.domain, from)
	c.dec = xml.NewDecoder(c.conn)
	for {
		tok, err := c.dec.Token()
		if err != nil {
			c.t.Fatalf("reading stream header: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != "stream" {
				c.t.Fatalf("expected stream header, got %v", se.Name)
			}
			break
		}
	}
	f := c.next()
	if f.XMLName.Local != "features" {
		c.t.Fatalf("expected stream features, got %v", f)
	}
	c.features = f
}

// startTLS negotiates STARTTLS with cfg and restarts the stream.
func (c *client) startTLS(cfg *tls.Config) *tls.ConnectionState {
	c.t.Helper()
	if !c.features.has(nsTLS, "starttls") {
		c.t.Fatalf("STARTTLS not offered: %v", c.features)
	}
	c.write("<starttls xmlns='%s'/>", nsTLS)
	if e := c.next(); e.XMLName.Local != "proceed" {
		c.t.Fatalf("STARTTLS: got %v", e)
	}
	tc := tls.Client(c.conn, cfg)
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	c.conn = tc
	c.openStream()
	st := tc.ConnectionState()
	return &st
}

// login authenticates with SASL PLAIN and binds a resource.
func (c *client) login(user, password string) {
	c.t.Helper()
	if !c.features.has(nsSASL, "mechanisms") {
		c.t.Fatalf("no SASL mechanisms: %v", c.features)
	}
	cred := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
	c.write("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>", nsSASL, cred)
	if e := c.next(); e.XMLName.Local != "success" {
		c.t.Fatalf("SASL PLAIN as %s: %v", user, e)
	}
	c.openStream()
	res := c.iq("set", "", "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>")
	if res.attr("type") != "result" {
		c.t.Fatalf("bind: %v", res)
	}
}

// iq sends an IQ and returns the response with the same id.
func (c *client) iq(typ, to, payload string) elem {
	c.t.Helper()
	c.id++
	id := fmt.Sprintf("t%d", c.id)
	toAttr := ""
	if to != "" {
		toAttr = fmt.Sprintf(" to='%s'", to)
	}
	c.write("<iq type='%s' id='%s'%s>%s</iq>", typ, id, toAttr, payload)
	for {
		e := c.next()
		if e.XMLName.Local == "error" && e.XMLName.Space == "http://etherx.jabber.org/streams" {
			c.t.Fatalf("stream error: %v", e)
		}
		if e.XMLName.Local == "iq" && e.attr("id") == id {
			return e
		}
	}
}

// register submits legacy registration fields.
func (c *client) register(user, password string, extra ...string) elem {
	c.t.Helper()
	return c.iq("set", "", fmt.Sprintf("<query xmlns='jabber:iq:register'><username>%s</username><password>%s</password>%s</query>",
		user, password, strings.Join(extra, "")))
}

// errorCondition returns the defined condition of an IQ error ("" if the
// IQ is a result).
func errorCondition(e elem) string {
	for _, k := range e.Kids {
		if k.XMLName.Local == "error" {
			for _, kk := range k.Kids {
				if kk.XMLName.Space == "urn:ietf:params:xml:ns:xmpp-stanzas" && kk.XMLName.Local != "text" {
					return kk.XMLName.Local
				}
			}
			return "unknown"
		}
	}
	return ""
}

// upload requests an HTTP upload slot (XEP-0363) from component and PUTs
// and GETs data through it. HTTP always goes to s.HTTPAddr, whatever host
// the slot URL names, so no DNS is involved.
func (c *client) upload(s *Server, component string, data []byte) {
	c.t.Helper()
	res := c.iq("get", component, fmt.Sprintf("<request xmlns='urn:xmpp:http:upload:0' filename='hello.txt' size='%d' content-type='text/plain'/>", len(data)))
	var slot struct {
		Put struct {
			URL     string `xml:"url,attr"`
			Headers []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:",chardata"`
			} `xml:"header"`
		} `xml:"put"`
		Get struct {
			URL string `xml:"url,attr"`
		} `xml:"get"`
	}
	if res.attr("type") != "result" || len(res.Kids) == 0 {
		c.t.Fatalf("upload slot: %v", res)
	}
	if err := xml.Unmarshal([]byte("<slot>"+res.Kids[0].Inner+"</slot>"), &slot); err != nil || slot.Put.URL == "" {
		c.t.Fatalf("upload slot %v: %v", res, err)
	}
	var d net.Dialer
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", s.HTTPAddr)
		},
	}, Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodPut, slot.Put.URL, bytes.NewReader(data))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain")
	for _, h := range slot.Put.Headers {
		req.Header.Set(h.Name, h.Value)
	}
	resp, err := hc.Do(req)
	if err != nil {
		c.t.Fatalf("PUT %s: %v", slot.Put.URL, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		c.t.Fatalf("PUT %s: %s %s", slot.Put.URL, resp.Status, body)
	}
	resp, err = hc.Get(slot.Get.URL)
	if err != nil {
		c.t.Fatalf("GET %s: %v", slot.Get.URL, err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		c.t.Fatalf("GET %s: %s %q", slot.Get.URL, resp.Status, body)
	}
}
