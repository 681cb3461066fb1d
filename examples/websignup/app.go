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

//go:embed page.html style.css
var assets embed.FS

// Limits.
const (
	sessionTTL  = 30 * time.Minute // lifetime of the cookie and of a form's CSRF token
	maxForm     = 16 << 10         // bytes of a submitted form
	maxPassword = 256              // characters
	minPassword = 8                // characters
	pageWait    = 20 * time.Second // how long a request waits for the sign-up to move on
	resultGrace = 30 * time.Second // a sign-up finished near its -ttl is kept this long (at most -ttl) to be shown
)

// config is the server's configuration, from the flags.
type config struct {
	list        providers.List
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
	mux     *http.ServeMux
	offered []offer // the providers a newcomer may pick
	limit   *limiter

	ctx    context.Context // cancelled by close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the sign-up goroutines

	mu      sync.Mutex
	pending map[string]*pending
	closed  bool
}

// offer is a provider on the start page.
type offer struct {
	Domain   string
	Category providers.Category
	Website  string
	Captcha  bool
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
	if cfg.ttl <= 0 || cfg.maxPending <= 0 || cfg.ipSignups <= 0 || cfg.ipWindow <= 0 {
		return nil, errors.New("websignup: -ttl, -max-pending, -ip-signups and -ip-window must be positive")
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &app{
		cfg:     cfg,
		tmpl:    tmpl,
		css:     css,
		mux:     http.NewServeMux(),
		limit:   newLimiter(cfg.ipSignups, cfg.ipWindow),
		ctx:     ctx,
		cancel:  cancel,
		pending: map[string]*pending{},
	}
	if _, err := rand.Read(a.key[:]); err != nil {
		cancel()
		return nil, err
	}
	q := providers.Query{Categories: []providers.Category{providers.CategoryA}, InBandRegistration: true}
	for _, p := range cfg.list.Filter(q).Providers {
		site, _, _ := p.Website.Pick()
		site = httpsLink(site)
		a.offered = append(a.offered, offer{Domain: p.JID, Category: p.Category, Website: site, Captcha: p.CaptchaRequired})
	}
	a.mux.HandleFunc("GET /{$}", a.index)
	a.mux.HandleFunc("GET /style.css", a.style)
	a.mux.HandleFunc("POST /signup", a.signup)
	a.mux.HandleFunc("GET /pending/{id}", a.show)
	a.mux.HandleFunc("GET /captcha/{id}", a.captchaImage)
	a.mux.HandleFunc("POST /captcha/{id}", a.captchaAnswer)
	return a, nil
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

// ServeHTTP sets the security headers and logs the request (method, path
// and status; never a form value). The path is foreign: it is logged
// through sanitize.Line, like every foreign string, so that it cannot
// forge a log line.
func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	a.mux.ServeHTTP(rw, r)
	a.cfg.log.Printf("%s %s %d", sanitize.Line(r.Method), sanitize.Line(r.URL.Path), rw.status)
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

// checkPost verifies a form submission: the size, the origin, the
// browser's cookie and the CSRF token. It returns the browser ID, or ""
// after writing an error.
func (a *app) checkPost(w http.ResponseWriter, r *http.Request) string {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		a.fail(w, http.StatusBadRequest, "The form could not be read.")
		return ""
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			a.fail(w, http.StatusForbidden, "This form was sent from another site.")
			return ""
		}
	}
	id := a.browserID(r)
	if id == "" || !a.checkToken(id, r.PostForm.Get("csrf")) {
		a.fail(w, http.StatusForbidden, "Your session has expired or the form is not from this page. Please start again.")
		return ""
	}
	return id
}

// render executes a template into a buffer first, so that an error does
// not leave half a page.
func (a *app) render(w http.ResponseWriter, status int, name string, data any) {
	var b bytes.Buffer
	if err := a.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		a.cfg.log.Printf("template %s: %s", name, sanitize.Line(err.Error()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func (a *app) fail(w http.ResponseWriter, status int, msg string) {
	a.render(w, status, "error", map[string]any{"Message": msg, "Status": status})
}

func (a *app) style(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "max-age=3600")
	w.Write(a.css)
}

// indexData is the start page.
type indexData struct {
	CSRF     string
	Offers   []offer
	Provider string
	Username string
	Error    string
}

func (a *app) index(w http.ResponseWriter, r *http.Request) {
	id := a.ensureBrowser(w, r)
	a.render(w, http.StatusOK, "index", indexData{CSRF: a.csrfToken(id), Offers: a.offered})
}

// signup starts a registration.
func (a *app) signup(w http.ResponseWriter, r *http.Request) {
	sid := a.checkPost(w, r)
	if sid == "" {
		return
	}
	form := r.PostForm
	provider := strings.TrimSpace(form.Get("provider"))
	username := strings.TrimSpace(form.Get("username"))
	password := form.Get("password")
	again := func(msg string) {
		a.render(w, http.StatusUnprocessableEntity, "index", indexData{CSRF: a.csrfToken(sid), Offers: a.offered, Provider: provider, Username: username, Error: msg})
	}
	if provider != "" && !slices.ContainsFunc(a.offered, func(o offer) bool { return o.Domain == provider }) {
		again("Please choose a provider from the list.")
		return
	}
	if username != "" {
		u, err := register.NormalizeUsername(username)
		if err != nil || len(u) > 64 {
			again("This username cannot be used: letters, digits and . - _ only, without spaces or @.")
			return
		}
		username = u
	}
	if n := len([]rune(password)); password != "" && (n < minPassword || n > maxPassword) {
		again("Please choose a password of at least 8 characters, or leave it empty to get one.")
		return
	}
	if ok, wait := a.limit.allow(clientKey(clientAddr(r, a.cfg.proxies)), a.now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		a.fail(w, http.StatusTooManyRequests, rateMessage)
		return
	}
	lang, country := acceptLanguage(r.Header.Get("Accept-Language"))
	p, err := a.start(sid, provider, username, password, lang, country)
	if err != nil {
		a.fail(w, http.StatusServiceUnavailable, busyMessage)
		return
	}
	p.await(r.Context(), pageWait, func(st string) bool { return st != stateWorking })
	http.Redirect(w, r, "/pending/"+p.id, http.StatusSeeOther)
}

// errBusy: the table of pending registrations is full (or the server is
// stopping).
var errBusy = errors.New("websignup: too many sign-ups in progress")

// busyMessage is what the page says for errBusy.
const busyMessage = "Too many sign-ups are in progress right now. Please try again in a minute."

// rateMessage is what the page says when a client made too many sign-ups.
const rateMessage = "Too many sign-ups from your network. Please try again later."

// start creates the pending registration and runs onboard.Signup for it.
func (a *app) start(owner, provider, username, password, lang, country string) (*pending, error) {
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
		id:      randomID(),
		owner:   owner,
		expires: now.Add(a.cfg.ttl),
		cancel:  cancel,
		state:   stateWorking,
		changed: make(chan struct{}),
		answers: make(chan answer),
	}
	a.pending[p.id] = p
	s := onboard.Signup{
		Username:  username,
		Password:  password,
		Language:  lang,
		Country:   country,
		Domain:    provider,
		Providers: a.cfg.list,
		Dial:      a.cfg.dial,
		Timeout:   a.cfg.timeout,
		Progress: func(e onboard.Event) {
			p.progress(e)
			// Events never hold a password, but they hold what servers sent.
			a.cfg.log.Printf("sign-up %s: %s", p.id[:8], sanitize.Line(e.String()))
		},
		SolveCaptcha: p.solve,
		// The page shows a link (if it is https); the user decides by
		// following it.
		AcceptRedirect: func(_ context.Context, _, u string) bool { return httpsLink(u) != "" },
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
		out := newOutcome(res, err)
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
		a.fail(w, http.StatusNotFound, "This sign-up has expired or does not exist. Please start again.")
		return nil
	}
	return p
}

// show renders the state of a registration. The final page is shown
// once: the registration (and a generated password) is forgotten after.
func (a *app) show(w http.ResponseWriter, r *http.Request) {
	sid := a.browserID(r)
	p := a.lookup(w, r, sid)
	if p == nil {
		return
	}
	p.await(r.Context(), pageWait, func(st string) bool { return st != stateWorking })
	v := p.view()
	v.CSRF = a.csrfToken(sid)
	switch v.State {
	case stateDone:
		a.mu.Lock()
		delete(a.pending, p.id)
		a.mu.Unlock()
		if v.Outcome.Error != "" {
			a.render(w, http.StatusOK, "failed", v)
		} else {
			a.render(w, http.StatusOK, "done", v)
		}
	case stateCaptcha:
		a.render(w, http.StatusOK, "captcha", v)
	default:
		a.render(w, http.StatusOK, "working", v)
	}
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
	seq := r.PostForm.Get("seq")
	if p.answer(r.Context(), seq, answer) {
		p.await(r.Context(), pageWait, func(st string) bool { return st != stateWorking })
	}
	http.Redirect(w, r, "/pending/"+p.id, http.StatusSeeOther)
}

// acceptLanguage returns the language and country of the first tag of an
// Accept-Language header ("de-AT,de;q=0.9": "de", "at").
func acceptLanguage(h string) (lang, country string) {
	tag, _, _ := strings.Cut(h, ",")
	tag, _, _ = strings.Cut(tag, ";")
	tag = strings.ToLower(strings.TrimSpace(tag))
	lang, rest, _ := strings.Cut(strings.ReplaceAll(tag, "_", "-"), "-")
	country, _, _ = strings.Cut(rest, "-")
	if len(lang) < 2 || len(lang) > 3 || !letters(lang) {
		return "", ""
	}
	if len(country) != 2 || !letters(country) {
		country = ""
	}
	return lang, country
}

// letters reports whether s is made of the letters a to z only.
func letters(s string) bool {
	for _, c := range []byte(s) {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
