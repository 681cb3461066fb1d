package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"log"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xmpp-onboard/onboard"
	"github.com/xmpp-onboard/onboard/internal/sanitize"
	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/register"
)

//go:embed page.html style.css status.js
var assets embed.FS

// Limits.
const (
	sessionTTL  = 30 * time.Minute       // lifetime of the cookie and of a form's CSRF token
	maxForm     = 16 << 10               // bytes of a submitted form
	maxPassword = 256                    // characters
	minPassword = 8                      // characters
	maxUsername = 64                     // bytes, after normalisation
	statusWait  = 500 * time.Millisecond // how long a status page waits for the sign-up to move on
	refreshSecs = 2                      // the status page reloads itself this often (without JavaScript)
	resultGrace = 30 * time.Second       // a sign-up finished near its -ttl is kept this long (at most -ttl) to be shown
)

// config is the server's configuration, from the flags.
type config struct {
	list        providers.List
	unlisted    map[string]bool // -domain providers the list does not describe
	addrs       map[string]string
	dialer      register.Dialer
	ttl         time.Duration
	maxPending  int
	timeout     time.Duration
	log         *log.Logger
	ipSignups   int            // sign-ups a client network may start per ipWindow
	ipWindow    time.Duration  // the window of ipSignups
	proxies     []netip.Prefix // trusted reverse proxies (X-Forwarded-For)
	behindHTTPS bool           // served to browsers over https by a reverse proxy
	invite      string         // -invite: the domain of the invitations of /invite/TOKEN; "" for none

	// run runs a sign-up; nil means s.Run. Tests replace it.
	run func(ctx context.Context, s *onboard.Signup) (*onboard.Result, error)
	// now is the clock; nil means time.Now. Tests replace it.
	now func() time.Time
}

// app is the web application. Its state lives in memory, and only a
// sign-up adds to it: the pending registrations and the rate limiter's
// buckets. A page view stores nothing (see csrf.go).
type app struct {
	cfg     config
	key     [32]byte // of the CSRF tokens
	tmpl    *template.Template
	css     []byte
	js      []byte
	mux     *http.ServeMux
	offered []offer    // the providers a newcomer may pick
	apps    []platform // the recommended apps
	limit   *limiter

	ctx    context.Context // cancelled by close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the sign-up goroutines

	mu      sync.Mutex
	pending map[string]*pending
	closed  bool
}

// offer is a provider on the start page: what matters about it, from
// the list, as messages.
type offer struct {
	Domain  string
	Website string // https, or ""
	Facts   []text
}

// pageData is what every template gets; each page uses some fields.
type pageData struct {
	L       lang   // the page's language
	Title   string // catalogue key of the <title>
	State   string // data-state of <body>, for tests
	CSRF    string
	Refresh int    // seconds; a self-refreshing (status) page if > 0
	ID      string // of the pending registration

	Form    *formData   // the sign-up form
	Invite  *inviteView // the invitation landing page
	Apps    []platform  // recommended apps
	Steps   []stepView  // status page: the stages
	Now     string      // status page: what happens now
	Events  []string    // status page: what happened
	Captcha *captchaView
	Rename  *renameView
	Outcome *outcome
	Saved   bool // the credentials form was sent
	Minutes int  // the result page can be shown again for this long
	Message text // error page
}

// formData is the sign-up form, as first shown or shown again with the
// errors of each field (already in the page's language).
type formData struct {
	Offers   []offer
	Provider string
	Username string
	Invite   string // the invitation token (invitation page)
	Domain   string // the invitation's domain
	Open     bool   // show the provider list unfolded
	Errs     map[string]string
}

// inviteView is the invitation landing page.
type inviteView struct {
	Domain string
	Token  string
	URI    template.URL // xmpp:DOMAIN?register;preauth=TOKEN
}

func newApp(cfg config) (*app, error) {
	tmpl, err := template.ParseFS(assets, "page.html")
	if err != nil {
		return nil, err
	}
	css, err := assets.ReadFile("style.css")
	if err != nil {
		return nil, err
	}
	js, err := assets.ReadFile("status.js")
	if err != nil {
		return nil, err
	}
	if cfg.ttl <= 0 || cfg.maxPending <= 0 || cfg.ipSignups <= 0 || cfg.ipWindow <= 0 {
		return nil, errors.New("websignup: -ttl, -max-pending, -ip-signups and -ip-window must be positive")
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &app{
		cfg:     cfg,
		tmpl:    tmpl,
		css:     css,
		js:      js,
		mux:     http.NewServeMux(),
		apps:    recommendedApps(),
		limit:   newLimiter(cfg.ipSignups, cfg.ipWindow),
		ctx:     ctx,
		cancel:  cancel,
		pending: map[string]*pending{},
	}
	if _, err := rand.Read(a.key[:]); err != nil {
		cancel()
		return nil, err
	}
	// Providers that ask for an e-mail address are not offered: the page
	// cannot fill that in.
	q := providers.Query{Categories: []providers.Category{providers.CategoryA}, InBandRegistration: true, NoEmail: true}
	for _, p := range cfg.list.Filter(q).Providers {
		a.offered = append(a.offered, newOffer(p, cfg.unlisted[p.JID]))
	}
	a.mux.HandleFunc("GET /{$}", a.index)
	a.mux.HandleFunc("GET /style.css", a.asset(css, "text/css; charset=utf-8"))
	a.mux.HandleFunc("GET /status.js", a.asset(js, "text/javascript; charset=utf-8"))
	a.mux.HandleFunc("POST /signup", a.signup)
	a.mux.HandleFunc("GET /pending/{id}", a.show)
	a.mux.HandleFunc("GET /pending/{id}/qr.png", a.resultQR)
	a.mux.HandleFunc("POST /pending/{id}/saved", a.saved)
	a.mux.HandleFunc("GET /captcha/{id}", a.captchaImage)
	a.mux.HandleFunc("POST /captcha/{id}", a.captchaAnswer)
	a.mux.HandleFunc("POST /rename/{id}", a.renameAnswer)
	if cfg.invite != "" {
		a.mux.HandleFunc("GET /invite/{token}", a.invitePage)
		a.mux.HandleFunc("GET /invite/{token}/qr.png", a.inviteQR)
	}
	return a, nil
}

// newOffer describes p for the chooser: where its servers are, what it
// costs, what it keeps, what it asks for, and where to get help.
func newOffer(p providers.Provider, unlisted bool) offer {
	o := offer{Domain: p.JID}
	site, _, _ := p.Website.Pick()
	o.Website = httpsLink(site)
	if unlisted {
		o.Facts = append(o.Facts, msg("fact.unlisted"))
		return o
	}
	if len(p.ServerLocations) > 0 {
		o.Facts = append(o.Facts, msg("fact.locations", countries(p.ServerLocations)))
	}
	if p.FreeOfCharge {
		o.Facts = append(o.Facts, msg("fact.free"))
	} else {
		o.Facts = append(o.Facts, msg("fact.paid"))
	}
	if p.UploadFileSize.Unlimited() {
		o.Facts = append(o.Facts, msg("fact.upload.nolimit"))
	} else if p.UploadFileSize.Known() {
		if p.UploadStorageTime.Known() {
			o.Facts = append(o.Facts, msg("fact.upload.kept", p.UploadFileSize, p.UploadStorageTime))
		} else {
			o.Facts = append(o.Facts, msg("fact.upload", p.UploadFileSize))
		}
	}
	if p.ArchiveStorageTime.Unlimited() {
		o.Facts = append(o.Facts, msg("fact.archive.nolimit"))
	} else if p.ArchiveStorageTime.Known() {
		o.Facts = append(o.Facts, msg("fact.archive", p.ArchiveStorageTime))
	}
	if p.CaptchaRequired {
		o.Facts = append(o.Facts, msg("fact.captcha"))
	} else {
		o.Facts = append(o.Facts, msg("fact.nocaptcha"))
	}
	o.Facts = append(o.Facts, msg("fact.noemail"))
	if reset, _, _ := p.PasswordReset.Pick(); reset != "" {
		o.Facts = append(o.Facts, msg("fact.reset"))
	} else {
		o.Facts = append(o.Facts, msg("fact.noreset"))
	}
	var help texts
	if e, _, _ := p.EmailSupport.Pick(); len(e) > 0 {
		help = append(help, msg("fact.support.email"))
	}
	if c, _, _ := p.ChatSupport.Pick(); len(c) > 0 {
		help = append(help, msg("fact.support.chat"))
	}
	if g, _, _ := p.GroupChatSupport.Pick(); len(g) > 0 {
		help = append(help, msg("fact.support.group"))
	}
	if len(help) > 0 {
		o.Facts = append(o.Facts, msg("fact.support", help))
	} else {
		o.Facts = append(o.Facts, msg("fact.nosupport"))
	}
	return o
}

// now is the app's clock.
func (a *app) now() time.Time {
	if a.cfg.now != nil {
		return a.cfg.now()
	}
	return time.Now()
}

// close stops every pending registration and waits for them.
func (a *app) close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.cancel()
	a.wg.Wait()
}

// csp is the Content-Security-Policy of every response: no inline
// script or style, script (the status page's progressive enhancement),
// styles, images and fetches from this origin only.
const csp = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP sets the security headers and logs the request (method, path
// and status; never a form value). The path is foreign: it is logged
// through sanitize.Line, like every foreign string, so that it cannot
// forge a log line; an invitation's token is left out.
func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Accept-Language, Cookie")
	rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	a.mux.ServeHTTP(rw, r)
	path := r.URL.Path
	if strings.HasPrefix(path, "/invite/") {
		path = "/invite/[token]"
	}
	a.cfg.log.Printf("%s %s %d", sanitize.Line(r.Method), sanitize.Line(path), rw.status)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// randomID returns 128 random bits in hex.
func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// sweep drops the expired registrations. a.mu must be held.
func (a *app) sweep(now time.Time) {
	for id, p := range a.pending {
		if now.After(p.expires) {
			p.cancel()
			delete(a.pending, id)
		}
	}
}

// langOf is the language of the pages for r.
func langOf(r *http.Request) lang { return pickLang(r.Header.Get("Accept-Language")) }

// checkPost verifies a form submission: the size, the origin, the
// browser's cookie and the CSRF token. It returns the browser ID, or ""
// after writing an error.
func (a *app) checkPost(w http.ResponseWriter, r *http.Request) string {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		a.fail(w, r, http.StatusBadRequest, msg("err.form"))
		return ""
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			a.fail(w, r, http.StatusForbidden, msg("err.origin"))
			return ""
		}
	}
	id := a.browserID(r)
	if id == "" || !a.checkToken(id, r.PostForm.Get("csrf")) {
		a.fail(w, r, http.StatusForbidden, msg("err.session"))
		return ""
	}
	return id
}

// render executes a template into a buffer first, so that an error does
// not leave half a page.
func (a *app) render(w http.ResponseWriter, status int, name string, d *pageData) {
	var b bytes.Buffer
	if err := a.tmpl.ExecuteTemplate(&b, name, d); err != nil {
		a.cfg.log.Printf("template %s: %s", name, sanitize.Line(err.Error()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", d.L.Code())
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func (a *app) fail(w http.ResponseWriter, r *http.Request, status int, m text) {
	a.render(w, status, "error", &pageData{L: langOf(r), Title: "error.title", State: "error", Message: m})
}

// asset serves an embedded file.
func (a *app) asset(data []byte, mime string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", mime)
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write(data)
	}
}

func (a *app) index(w http.ResponseWriter, r *http.Request) {
	id := a.ensureBrowser(w, r)
	a.render(w, http.StatusOK, "index", &pageData{L: langOf(r), Title: "index.title", State: "index", CSRF: a.csrfToken(id),
		Form: &formData{Offers: a.offered}})
}

// signupForm is a submitted sign-up form.
type signupForm struct {
	provider, username, password, invite string
}

// check validates the form; it returns the errors by field, in l.
func (a *app) check(l lang, f *signupForm, password2 string) map[string]string {
	errs := map[string]string{}
	if f.invite != "" {
		if a.cfg.invite == "" || !validToken(f.invite) {
			errs["username"] = l.T("err.invite")
		}
		f.provider = ""
	}
	if f.provider != "" && !slices.ContainsFunc(a.offered, func(o offer) bool { return o.Domain == f.provider }) {
		errs["provider"] = l.T("err.provider")
	}
	if f.username != "" {
		u, err := register.NormalizeUsername(f.username)
		if err != nil || len(u) > maxUsername {
			errs["username"] = l.T("err.username")
		} else {
			f.username = u
		}
	}
	if n := len([]rune(f.password)); f.password != "" && (n < minPassword || n > maxPassword) {
		errs["password"] = l.T("err.passwordLength", minPassword)
	}
	if f.password != password2 {
		errs["password2"] = l.T("err.passwordMismatch")
	}
	return errs
}

// signup starts a registration and answers at once with a redirect to
// its status page.
func (a *app) signup(w http.ResponseWriter, r *http.Request) {
	sid := a.checkPost(w, r)
	if sid == "" {
		return
	}
	l := langOf(r)
	form := r.PostForm
	f := signupForm{
		provider: strings.TrimSpace(form.Get("provider")),
		username: strings.TrimSpace(form.Get("username")),
		password: form.Get("password"),
		invite:   strings.TrimSpace(form.Get("invite")),
	}
	if errs := a.check(l, &f, form.Get("password2")); len(errs) > 0 {
		d := &pageData{L: l, Title: "index.title", State: "index", CSRF: a.csrfToken(sid),
			Form: &formData{Offers: a.offered, Provider: f.provider, Username: f.username, Errs: errs, Open: errs["provider"] != "" || f.provider != ""}}
		name := "index"
		if f.invite != "" && validToken(f.invite) && a.cfg.invite != "" {
			d.Title, d.State, name = "invite.title", "invite", "invite"
			d.Invite = a.inviteView(f.invite)
			d.Apps = a.apps
			d.Form.Invite, d.Form.Domain = f.invite, a.cfg.invite
		}
		a.render(w, http.StatusUnprocessableEntity, name, d)
		return
	}
	if ok, wait := a.limit.allow(clientKey(clientAddr(r, a.cfg.proxies)), a.now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		a.fail(w, r, http.StatusTooManyRequests, msg("err.rate"))
		return
	}
	lang, country := acceptLanguage(r.Header.Get("Accept-Language"))
	p, err := a.start(sid, f, lang, country)
	if err != nil {
		a.fail(w, r, http.StatusServiceUnavailable, msg("err.busy"))
		return
	}
	http.Redirect(w, r, "/pending/"+p.id, http.StatusSeeOther)
}

// errBusy: the table of pending registrations is full (or the server is
// stopping).
var errBusy = errors.New("websignup: too many sign-ups in progress")

// start creates the pending registration and runs onboard.Signup for it.
func (a *app) start(owner string, f signupForm, lang, country string) (*pending, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, errBusy
	}
	now := a.now()
	a.sweep(now)
	// One registration per browser: a new one replaces the old.
	for id, p := range a.pending {
		if p.owner == owner {
			p.cancel()
			delete(a.pending, id)
		}
	}
	if len(a.pending) >= a.cfg.maxPending {
		return nil, errBusy
	}
	ctx, cancel := context.WithTimeout(a.ctx, a.cfg.ttl)
	p := &pending{
		id:        randomID(),
		owner:     owner,
		expires:   now.Add(a.cfg.ttl),
		cancel:    cancel,
		state:     stateWorking,
		changed:   make(chan struct{}),
		answers:   make(chan answer),
		typedName: f.username != "",
		username:  f.username,
		provider:  f.provider,
		invite:    f.invite,
	}
	a.pending[p.id] = p
	s := onboard.Signup{
		Username:  f.username,
		Password:  f.password,
		Language:  lang,
		Country:   country,
		Domain:    f.provider,
		Providers: a.cfg.list,
		Dialer:    a.cfg.dialer,
		Timeout:   a.cfg.timeout,
		Progress: func(e onboard.Event) {
			p.progress(e)
			// Events never hold a password, but they hold what servers sent.
			a.cfg.log.Printf("sign-up %s: %s", p.id[:8], sanitize.Line(e.String()))
		},
		SolveCaptcha: p.solve,
		// A typed name is never replaced silently: the user chooses.
		Rename: p.rename,
		// The page shows a link (if it is https); the user decides by
		// following it.
		AcceptRedirect: func(_ context.Context, _, u string) bool { return httpsLink(u) != "" },
	}
	if f.invite != "" {
		s.Invite, s.Domain = f.invite, a.cfg.invite
	}
	runSignup := a.cfg.run
	if runSignup == nil {
		runSignup = func(ctx context.Context, s *onboard.Signup) (*onboard.Result, error) { return s.Run(ctx) }
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer cancel()
		res, err := runSignup(ctx, &s)
		// Stopped by -ttl (or the server's end), not by a provider: the
		// context's deadline may have passed a moment before its Err says
		// so.
		dl, _ := ctx.Deadline()
		stopped := ctx.Err() != nil || !time.Now().Before(dl)
		out := newOutcome(res, err, p, stopped)
		if res != nil {
			res.Close() // the page does not keep the session
		}
		switch {
		case err != nil:
			a.cfg.log.Printf("sign-up %s: %s", p.id[:8], sanitize.Line(err.Error()))
		case res != nil && res.RedirectURL == "":
			a.cfg.log.Printf("sign-up %s: account %s created", p.id[:8], sanitize.Line(res.JID.String()))
		}
		// The slot is freed at -ttl after the start; a result that came
		// late is kept a little longer, so that its page can show it.
		a.mu.Lock()
		if late := a.now().Add(min(resultGrace, a.cfg.ttl)); late.After(p.expires) {
			p.expires = late
		}
		a.mu.Unlock()
		p.finish(out)
	}()
	return p, nil
}

// lookup returns the owner's pending registration, or nil after writing
// an error.
func (a *app) lookup(w http.ResponseWriter, r *http.Request, sid string) *pending {
	a.mu.Lock()
	p, ok := a.pending[r.PathValue("id")]
	if ok && a.now().After(p.expires) {
		p.cancel()
		delete(a.pending, p.id)
		ok = false
	}
	a.mu.Unlock()
	if !ok || sid == "" || p.owner != sid {
		a.fail(w, r, http.StatusNotFound, msg("err.expired"))
		return nil
	}
	return p
}

// show renders the state of a registration. A status request waits a
// moment for the sign-up to move on, never long: the page refreshes
// itself. The final page can be shown again, to the same browser, until
// the registration expires (-ttl from its start).
func (a *app) show(w http.ResponseWriter, r *http.Request) {
	sid := a.browserID(r)
	p := a.lookup(w, r, sid)
	if p == nil {
		return
	}
	p.await(r.Context(), statusWait, func(st string) bool { return st != stateWorking })
	l := langOf(r)
	v := p.view(l)
	d := &pageData{L: l, ID: p.id, CSRF: a.csrfToken(sid), State: v.State, Steps: v.Steps, Now: v.Now, Events: v.Events,
		Captcha: v.Captcha, Rename: v.Rename, Outcome: v.Outcome, Saved: r.URL.Query().Get("saved") == "1"}
	switch v.State {
	case stateDone:
		if v.Outcome.Error.Key != "" {
			d.State, d.Title = "failed", "failed.title"
			if v.Outcome.Retry {
				d.Form = &formData{Offers: a.offered, Username: v.Outcome.Username}
				if p.invite != "" {
					d.Form.Invite, d.Form.Domain = p.invite, a.cfg.invite
				}
			}
			a.render(w, http.StatusOK, "failed", d)
			return
		}
		a.mu.Lock()
		left := p.expires.Sub(a.now())
		a.mu.Unlock()
		d.Minutes = max(1, int((left+time.Minute-1)/time.Minute))
		d.Title, d.Apps = "done.title", a.apps
		a.render(w, http.StatusOK, "done", d)
	case stateCaptcha:
		d.Title = "captcha.title"
		a.render(w, http.StatusOK, "captcha", d)
	case stateRename:
		d.Title = "rename.title"
		a.render(w, http.StatusOK, "rename", d)
	default:
		d.Title, d.Refresh = "working.title", refreshSecs
		a.render(w, http.StatusOK, "working", d)
	}
}

// resultQR serves the QR code of the new account's xmpp: URI.
func (a *app) resultQR(w http.ResponseWriter, r *http.Request) {
	p := a.lookup(w, r, a.browserID(r))
	if p == nil {
		return
	}
	v := p.view(lang{})
	if v.Outcome == nil || v.Outcome.URI == "" {
		http.NotFound(w, r)
		return
	}
	a.servePNG(w, r, string(v.Outcome.URI))
}

// servePNG serves the QR code of s.
func (a *app) servePNG(w http.ResponseWriter, r *http.Request, s string) {
	img, err := qrPNG(s)
	if err != nil {
		a.cfg.log.Printf("QR code: %s", sanitize.Line(err.Error()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Write(img)
}

// saved is where the credentials form of the result page goes: its
// fields have no names, so nothing but the CSRF token is sent; the
// browser's password manager offers to store them on the way.
func (a *app) saved(w http.ResponseWriter, r *http.Request) {
	sid := a.checkPost(w, r)
	if sid == "" {
		return
	}
	p := a.lookup(w, r, sid)
	if p == nil {
		return
	}
	http.Redirect(w, r, "/pending/"+p.id+"?saved=1", http.StatusSeeOther)
}

// captchaImage serves the CAPTCHA image from memory.
func (a *app) captchaImage(w http.ResponseWriter, r *http.Request) {
	sid := a.browserID(r)
	p := a.lookup(w, r, sid)
	if p == nil {
		return
	}
	img, mime := p.image()
	if img == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", mime)
	w.Header().Set("Content-Disposition", "inline")
	w.Write(img)
}

// captchaAnswer hands the answer to the waiting registration.
func (a *app) captchaAnswer(w http.ResponseWriter, r *http.Request) {
	sid := a.checkPost(w, r)
	if sid == "" {
		return
	}
	p := a.lookup(w, r, sid)
	if p == nil {
		return
	}
	answer := strings.TrimSpace(r.PostForm.Get("answer"))
	if len(answer) > 256 {
		answer = answer[:256]
	}
	p.answer(r.Context(), r.PostForm.Get("seq"), answer)
	http.Redirect(w, r, "/pending/"+p.id, http.StatusSeeOther)
}

// renameAnswer hands the user's choice of another name (the suggestion
// or one they typed) to the waiting registration. A typed name that
// cannot be used shows the page again with the error.
func (a *app) renameAnswer(w http.ResponseWriter, r *http.Request) {
	sid := a.checkPost(w, r)
	if sid == "" {
		return
	}
	p := a.lookup(w, r, sid)
	if p == nil {
		return
	}
	l := langOf(r)
	seq := r.PostForm.Get("seq")
	name := ""
	if r.PostForm.Get("choice") == "own" {
		typed := strings.TrimSpace(r.PostForm.Get("username"))
		u, err := register.NormalizeUsername(typed)
		if typed == "" || err != nil || len(u) > maxUsername {
			v := p.view(l)
			if v.Rename == nil {
				http.Redirect(w, r, "/pending/"+p.id, http.StatusSeeOther)
				return
			}
			v.Rename.Error, v.Rename.Typed = l.T("err.username"), typed
			a.render(w, http.StatusUnprocessableEntity, "rename", &pageData{L: l, Title: "rename.title", State: stateRename, ID: p.id, CSRF: a.csrfToken(sid), Rename: v.Rename})
			return
		}
		name = u
	} else if v := p.view(l); v.Rename != nil {
		name = v.Rename.Suggestion
	}
	if name != "" {
		p.answer(r.Context(), seq, name)
	}
	http.Redirect(w, r, "/pending/"+p.id, http.StatusSeeOther)
}

// validToken reports whether s is an invitation token that
// register.ParseInvite takes as a bare token.
func validToken(s string) bool {
	inv, err := register.ParseInvite(s)
	return err == nil && inv.Domain == "" && inv.Token == s
}

// inviteView is the invitation of token to the -invite domain.
func (a *app) inviteView(token string) *inviteView {
	// The token is checked (validToken): letters, digits and URI-safe
	// punctuation only; the domain is the operator's.
	return &inviteView{Domain: a.cfg.invite, Token: token, URI: template.URL("xmpp:" + a.cfg.invite + "?register;preauth=" + token)}
}

// invitePage is the landing page of an invitation (/invite/TOKEN): the
// apps, the xmpp: link and its QR code to create the account in an app,
// and the form to create it here.
func (a *app) invitePage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if !validToken(token) {
		a.fail(w, r, http.StatusNotFound, msg("err.invite"))
		return
	}
	id := a.ensureBrowser(w, r)
	a.render(w, http.StatusOK, "invite", &pageData{L: langOf(r), Title: "invite.title", State: "invite", CSRF: a.csrfToken(id),
		Invite: a.inviteView(token), Apps: a.apps, Form: &formData{Invite: token, Domain: a.cfg.invite}})
}

// inviteQR serves the QR code of the invitation's xmpp: URI.
func (a *app) inviteQR(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if !validToken(token) {
		http.NotFound(w, r)
		return
	}
	a.servePNG(w, r, string(a.inviteView(token).URI))
}
