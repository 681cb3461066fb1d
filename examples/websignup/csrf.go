package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

// Sessions are stateless: the cookie holds a random browser ID that the
// server does not store, and the CSRF token of a form is an HMAC of that
// ID and an expiry time, under a key made at start (double-submit
// cookie). A page view costs no memory; only a sign-up does.

// Cookie names: the __Host- prefix makes the browser refuse the cookie
// unless it is Secure, for the whole host and set by it (no sibling
// subdomain can plant one).
const (
	cookieName       = "websignup"
	secureCookieName = "__Host-websignup"
)

// secure reports whether the browser reached the page over https:
// directly (r.TLS) or through a reverse proxy (-behind-https).
func (a *app) secure(r *http.Request) bool { return r.TLS != nil || a.cfg.behindHTTPS }

func (a *app) cookieName(r *http.Request) string {
	if a.secure(r) {
		return secureCookieName
	}
	return cookieName
}

// browserID returns the ID of the browser's cookie, or "" without one.
func (a *app) browserID(r *http.Request) string {
	c, err := r.Cookie(a.cookieName(r))
	if err != nil || !validID(c.Value) {
		return ""
	}
	return c.Value
}

// ensureBrowser returns the browser's ID, giving it one if it has none,
// and (re)sets the cookie. It stores nothing.
func (a *app) ensureBrowser(w http.ResponseWriter, r *http.Request) string {
	id := a.browserID(r)
	if id == "" {
		id = randomID()
	}
	http.SetCookie(w, &http.Cookie{
		Name: a.cookieName(r), Value: id, Path: "/", MaxAge: int(sessionTTL.Seconds()),
		HttpOnly: true, Secure: a.secure(r), SameSite: http.SameSiteStrictMode,
	})
	return id
}

// validID reports whether s looks like a randomID.
func validID(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// csrfToken returns the token of the forms for browser id: the expiry
// time and the HMAC of both.
func (a *app) csrfToken(id string) string {
	exp := strconv.FormatInt(a.now().Add(sessionTTL).Unix(), 10)
	return exp + "." + a.mac(id, exp)
}

// checkToken reports whether tok is a current token for browser id.
func (a *app) checkToken(id, tok string) bool {
	exp, sum, ok := strings.Cut(tok, ".")
	if !ok || id == "" {
		return false
	}
	t, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || a.now().Unix() > t {
		return false
	}
	return hmac.Equal([]byte(sum), []byte(a.mac(id, exp)))
}

func (a *app) mac(id, exp string) string {
	m := hmac.New(sha256.New, a.key[:])
	m.Write([]byte("websignup csrf\x00" + id + "\x00" + exp))
	return hex.EncodeToString(m.Sum(nil))
}
