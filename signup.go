package onboard

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"

	"github.com/xmpp-onboard/onboard/discovery"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/rating"
	"github.com/xmpp-onboard/onboard/register"
)

// Defaults of [Signup].
const (
	// DefaultParallel is how many providers are verified at once.
	DefaultParallel = 3
	// DefaultTimeout bounds the verification of one provider: connect,
	// TLS, stream features and the registration form.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxCandidates is how many providers are tried at most.
	DefaultMaxCandidates = 10
	// DefaultRenames is how many other usernames are tried when the
	// wanted one is taken.
	DefaultRenames = 3
	// DefaultCaptchaTries is how many CAPTCHAs of one provider the user may
	// get wrong before the next provider is tried.
	DefaultCaptchaTries = 3
)

// Signup creates an account on a good provider: it chooses candidates
// fairly from a provider list, verifies several of them live at once, and
// registers and logs in on the first that works, falling back to the next
// when one fails. See the package documentation for the flow.
//
// The zero value works: it picks among the category A providers of the
// embedded list that allow in-band registration without a CAPTCHA or an
// e-mail address, with a generated username and password, and connects
// with the system's DNS and roots of trust.
//
// A Signup may be run several times, and by several goroutines at once if
// its fields do not change and Rand is nil.
type Signup struct {
	// Username is the wanted account name (the localpart of the JID). It
	// is normalised (register.NormalizeUsername); an invalid name is an
	// error before anything is sent. Empty means [RandomUsername].
	Username string
	// Password is the wanted password. Empty means [RandomPassword]
	// (Result.PasswordGenerated is then true), a new one for each
	// provider the form is submitted to.
	//
	// A password the user typed is submitted to one provider only: if
	// that provider refuses the registration after it received the
	// password (rate limit, resource constraint, wrong CAPTCHA …), Run
	// ends with a *NoProviderError that matches [ErrPasswordSent] and the
	// provider's reason, instead of sending the same password to the next
	// provider, where a refusing provider could use it. Set
	// ReusePassword to fall back anyway.
	Password string
	// ReusePassword lets a typed Password go to further providers after
	// one that received it refused the registration.
	ReusePassword bool
	// Language is the user's language (ISO 639-1 or a tag such as
	// "de-AT"): providers that publish pages in it are preferred, and
	// Result.Info is in it where possible.
	Language string
	// Country is the user's country (ISO 3166-1 alpha-2): providers with
	// servers there are preferred.
	Country string

	// Invite is an invitation, as an XMPP URI
	// ("xmpp:example.org?register;preauth=TOKEN"), a landing page link
	// with the URI after "#" ("https://xmpp.link/#example.org?register;preauth=TOKEN",
	// read without fetching anything), a link to an invitation page
	// ("https://example.org/invite?TOKEN", fetched only with InvitePages)
	// or a bare token (then Domain names the server). The account is
	// created on that server only: no choice, no fallback. A URI that
	// names the account fills in Username.
	Invite string
	// InvitePages, if set, fetches the invitation page when Invite links
	// to one (register.InviteFetcher: https only, size, time and
	// destination limits, public addresses only by default). nil means
	// such a link is an error matching ErrMalformedInvite and
	// register.ErrInvitePage: nothing is fetched unless the application
	// says so.
	InvitePages *register.InviteFetcher
	// Domain, if set, is the only server to register on (no choice, no
	// fallback), for applications that let the user type a server.
	Domain string

	// Providers is the list to choose from; an empty list means
	// providers.Embedded(). Providers without a valid category (from the
	// full providers.json, for example) are rated with rating.Evaluate on
	// the list's publication date (today if unknown).
	Providers providers.List
	// Query selects the candidates; nil means category A with in-band
	// registration. NoCaptcha is added when SolveCaptcha is nil and
	// NoEmail when FillForm is nil; Prefer takes Language and Country
	// unless it sets its own.
	Query *providers.Query
	// Rand shuffles the candidates of equal rank, so that newcomers
	// spread over the providers. nil means a generator seeded from
	// crypto/rand. A *rand.Rand is not safe for concurrent use: give each
	// concurrent Run its own.
	Rand *rand.Rand
	// MaxCandidates is how many providers are tried at most; zero means
	// DefaultMaxCandidates.
	MaxCandidates int

	// Dialer connects to the providers (SRV records, TLS, destinations;
	// inject a Resolver or a NetDialer there). Its Addr is for one server
	// of the application's own: set Domain too (Run returns
	// ErrAddrWithoutDomain otherwise); Addrs and DirectTLSAddrs map
	// several domains to servers of the application's own, for tests and
	// local deployments. TLSConfig.RootCAs takes their CAs.
	Dialer register.Dialer
	// Parallel is how many providers are verified at once; zero means
	// DefaultParallel. Verifications that take longer than the hedge
	// delay (see the package documentation, # How Signup chooses) make
	// room for up to Parallel more: never more than 2×Parallel at once.
	Parallel int
	// Timeout bounds the verification of one provider (connect, TLS,
	// features, form); zero means DefaultTimeout, a negative value that
	// only the context bounds it (as register.Dialer.Timeout and
	// discovery.Prober.Timeout). A provider that does not answer in time
	// is skipped. The whole run is bounded by the context only.
	Timeout time.Duration

	// SolveCaptcha shows a CAPTCHA (c.Image, of type c.MIME, or the
	// question c.Label) to the user and returns the answer. nil means
	// providers that ask for a CAPTCHA are skipped. An error skips the
	// provider (cancel ctx to stop everything). It runs on the goroutine
	// that called Run, while the provider's connection waits.
	//
	// A form with several challenges (XEP-0158 §3.2) gets one call per
	// challenge it needs: the required ones, then as many as it asks for
	// (register.Form.NextCaptcha). After a wrong answer it is called again
	// with the new challenge (a new image, where the server sends one),
	// c.Retry set to the number of wrong answers so far and
	// c.PreviousError to the server's refusal, so that the application
	// can say "wrong, try again"; c.FallbackURL is a web page where the
	// challenge can be solved instead (https only), when the server names
	// one.
	SolveCaptcha func(ctx context.Context, domain string, c *register.Captcha) (string, error)
	// FillForm fills the fields a provider asks for beyond username,
	// password and CAPTCHA (see register.Form.Missing), such as an e-mail
	// address; it must not change the username or password. nil means
	// such providers are skipped.
	FillForm func(ctx context.Context, domain string, f *register.Form) error
	// AcceptRedirect is asked, when no provider could create the account
	// in-band, whether the user wants to sign up on the web page of a
	// provider that only allows that (url is https). If it returns true,
	// Run returns a Result with RedirectURL and no account. nil means no.
	AcceptRedirect func(ctx context.Context, domain, url string) bool
	// Rename returns another username when taken is taken on domain. nil
	// means taken plus random digits (a generated name is replaced by a
	// new one). An error ends the run. Setting Rename is the
	// application's decision about typed names too: it is called for a
	// taken Username (it may ask the user).
	Rename func(ctx context.Context, domain, taken string) (string, error)
	// RenameTyped lets Run replace a typed Username that is taken with the
	// name plus digits when Rename is nil. Without Rename and RenameTyped
	// a taken typed name (Username, or the one an invitation names) ends
	// the run with a *UsernameTakenError (matching
	// register.ErrUsernameTaken) that suggests other names, so that the
	// user chooses: nobody finds themselves "juliet360" without asking,
	// with a fixed Domain or not. Generated names are always replaced.
	RenameTyped bool
	// Renames is how many other usernames are tried; zero means
	// DefaultRenames, a negative value none.
	Renames int
	// CaptchaTries is how many wrong CAPTCHA answers are allowed per
	// provider; zero means DefaultCaptchaTries.
	CaptchaTries int

	// Probe, if set, probes the provider after the account was created
	// and logged in (discovery.Prober.Probe, logged in with the new
	// account on a second connection): what the server says live (upload
	// limit, support addresses, its provider file, …) is laid over the
	// listed record with rating.Merge, for Result.Info and
	// Result.Provider, and the report is Result.Report. It is most useful
	// for servers the list does not know (invitations, Domain). Its
	// Account field is ignored; the probe is bounded by its Timeout and
	// ctx, and its failures only leave Info as the list has it.
	Probe *discovery.Prober

	// Progress, if set, is called at each stage (see [Event]). It is
	// always called on the goroutine that called Run, one event at a time,
	// also for the verifications that run in parallel.
	Progress func(Event)
}

// String describes the configuration without the password (value
// receiver, so that printing a Signup value with %v or %+v is safe too).
func (s Signup) String() string {
	var b strings.Builder
	b.WriteString("onboard.Signup{")
	switch {
	case s.Invite != "":
		b.WriteString("invitation")
		if s.Domain != "" {
			b.WriteString(" to " + s.Domain)
		}
	case s.Domain != "":
		b.WriteString("on " + s.Domain)
	default:
		fmt.Fprintf(&b, "choose among %d providers", s.Providers.Len())
		if s.Providers.Len() == 0 {
			b.WriteString(" (embedded list)")
		}
	}
	if s.Username != "" {
		b.WriteString(", username " + s.Username)
	}
	if s.Password != "" {
		b.WriteString(", password [redacted]")
	}
	if s.Language != "" || s.Country != "" {
		b.WriteString(", for " + s.Language + "/" + s.Country)
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String, so that %#v hides the password too.
func (s Signup) GoString() string { return s.String() }

func (s *Signup) parallel() int { return orDefault(s.Parallel, DefaultParallel) }

// timeout is the per-provider bound (0: none but the context's).
func (s *Signup) timeout() time.Duration { return xmppconn.Timeout(s.Timeout, DefaultTimeout) }
func (s *Signup) maxCandidates() int     { return orDefault(s.MaxCandidates, DefaultMaxCandidates) }
func (s *Signup) captchaTries() int      { return orDefault(s.CaptchaTries, DefaultCaptchaTries) }
func (s *Signup) renames() int {
	if s.Renames < 0 {
		return 0
	}
	return orDefault(s.Renames, DefaultRenames)
}

func orDefault(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

// run is the state of one Signup.Run.
type run struct {
	s             *Signup
	username      string
	userGenerated bool
	password      string
	pwGenerated   bool
	token         string
	domain        string // fixed server (Domain or the invitation's)
	attempts      []*AttemptError
	byDomain      map[string]providers.Provider
	// passwordSent: the password went out in a submission that failed.
	passwordSent bool
	// slowest is the slowest successful verification so far, for the
	// hedge delay of the next verification round (verify.go).
	slowest time.Duration
}

// Run creates the account. It returns a Result with the logged-in session,
// or an error:
//
//   - an error before anything is sent, for an invalid Username (a
//     *register.Error matching register.ErrInvalidUsername), Invite
//     ([ErrMalformedInvite]) or Domain (register.ErrInvalidDomain);
//   - a [*NoProviderError] when no provider could create the account,
//     listing why each one failed;
//   - an [*AttemptError] when a verified provider refused what the user
//     chose and another provider would not help: the password is too weak
//     (register.ErrWeakPassword), the username is invalid there, or it was
//     taken and no other name was found (register.ErrUsernameTaken); or when
//     the connection broke after the form was sent and a login on a new
//     connection could not tell whether the account exists
//     (register.ErrOutcomeUnknown; the *register.Error holds the
//     credentials).
//
// When the account was created but the login failed, Run returns the
// Result (without Session) and an *AttemptError matching
// register.ErrLoginFailed.
//
// Run returns when ctx is done; no goroutine it started outlives it, and
// every connection but the returned session's is closed.
func (s *Signup) Run(ctx context.Context) (*Result, error) {
	r := &run{s: s, byDomain: map[string]providers.Provider{}}
	if err := r.prepare(ctx); err != nil {
		return nil, err
	}
	cands := r.candidates()
	if len(cands) == 0 {
		return nil, &NoProviderError{Err: &providers.NoMatchError{Considered: r.listLen()}}
	}
	doms := make([]string, len(cands))
	for i, p := range cands {
		doms[i] = p.JID
		r.byDomain[p.JID] = p
	}
	r.event(Event{Stage: StageCandidates, Candidates: doms})

	queue := cands
	for ctx.Err() == nil && len(queue) > 0 {
		var v *verified
		v, queue = r.verify(ctx, queue)
		if v == nil {
			break
		}
		res, failed, err := r.register(ctx, v)
		if failed == nil {
			return res, err
		}
		r.attempts = append(r.attempts, failed)
		if r.passwordSent && !r.pwGenerated && !s.ReusePassword {
			// The typed password went to a provider that refused: it
			// goes to no other (see Signup.Password).
			return nil, &NoProviderError{Attempts: r.attempts, Candidates: len(cands), Err: ErrPasswordSent}
		}
		next := ""
		if len(queue) > 0 && ctx.Err() == nil {
			next = queue[0].JID
		}
		r.event(Event{Stage: StageFallback, Domain: failed.Domain, Err: failed, Next: next})
	}
	if ctx.Err() == nil && s.AcceptRedirect != nil {
		if res := r.redirect(ctx); res != nil {
			return res, nil
		}
	}
	return nil, &NoProviderError{Attempts: r.attempts, Candidates: len(cands), Err: ctx.Err()}
}

// prepare checks and fills in the username, password and invitation (an
// invitation page is fetched with InvitePages).
func (r *run) prepare(ctx context.Context) error {
	s := r.s
	r.domain = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s.Domain)), ".")
	if s.Invite != "" {
		inv, err := register.ParseInvite(s.Invite)
		if errors.Is(err, register.ErrInvitePage) && s.InvitePages != nil {
			inv, err = s.InvitePages.Resolve(ctx, s.Invite)
		}
		if err != nil {
			return fmt.Errorf("%w: %w", ErrMalformedInvite, err)
		}
		r.token = inv.Token
		switch {
		case inv.Domain != "" && r.domain != "" && inv.Domain != r.domain:
			return fmt.Errorf("%w: it is for %s, not %s", ErrMalformedInvite, inv.Domain, r.domain)
		case inv.Domain != "":
			r.domain = inv.Domain
		case r.domain == "":
			return fmt.Errorf("%w: a bare token needs Signup.Domain", ErrMalformedInvite)
		}
		if inv.Username != "" && s.Username == "" {
			r.username = inv.Username
		}
	}
	if r.domain == "" && s.Dialer.Addr != "" {
		// One address for every provider of a list would send their
		// domains to one server.
		return ErrAddrWithoutDomain
	}
	if r.domain != "" {
		j, err := jid.New("", r.domain, "")
		if err != nil {
			return fmt.Errorf("onboard: %q: %w (%w)", r.domain, register.ErrInvalidDomain, err)
		}
		r.domain = j.Domainpart()
	}
	if s.Username != "" {
		u, err := register.NormalizeUsername(s.Username)
		if err != nil {
			return err
		}
		r.username = u
	}
	if r.username == "" {
		r.username, r.userGenerated = RandomUsername(), true
	}
	r.password = s.Password
	if r.password == "" {
		r.password, r.pwGenerated = RandomPassword(), true
	}
	return nil
}

func (r *run) event(e Event) {
	if r.s.Progress != nil && e.Stage != stageGreeted {
		r.s.Progress(e)
	}
}

func (r *run) list() providers.List {
	if r.s.Providers.Len() > 0 {
		return r.s.Providers
	}
	return providers.Embedded()
}

func (r *run) listLen() int {
	if r.domain != "" {
		return 1
	}
	return r.list().Len()
}

// query is the candidate query with the defaults applied.
func (r *run) query() providers.Query {
	q := providers.Query{
		Categories:         []providers.Category{providers.CategoryA},
		InBandRegistration: true,
	}
	if r.s.Query != nil {
		q = *r.s.Query
		q.Exclude = slices.Clone(q.Exclude)
	}
	if r.s.SolveCaptcha == nil {
		q.NoCaptcha = true
	}
	if r.s.FillForm == nil {
		q.NoEmail = true
	}
	if q.Prefer.Language == "" {
		q.Prefer.Language = r.s.Language
	}
	if q.Prefer.Country == "" {
		q.Prefer.Country = r.s.Country
	}
	return q
}

// rand returns the generator for the shuffle.
func (r *run) rand() *rand.Rand {
	if r.s.Rand != nil {
		return r.s.Rand
	}
	var seed [16]byte
	crand.Read(seed[:])
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
}

// candidates returns the providers to try, in order: for a fixed server
// that one; otherwise the providers Candidates picks, shuffled, then those
// it picks when the first ones are excluded (a wider preference, the rest
// of the best category, the next category the query allows), and so on.
func (r *run) candidates() []providers.Provider {
	l := r.list()
	if r.domain != "" {
		p, ok := l.Lookup(r.domain)
		if !ok {
			p = providers.New(r.domain)
		}
		p.JID = r.domain
		return []providers.Provider{p}
	}
	l = rated(l)
	q := r.query()
	rnd := r.rand()
	max := r.s.maxCandidates()
	var out []providers.Provider
	for len(out) < max {
		tier := l.Candidates(q)
		if len(tier) == 0 {
			break
		}
		rnd.Shuffle(len(tier), func(i, j int) { tier[i], tier[j] = tier[j], tier[i] })
		for _, p := range tier {
			out = append(out, p.Clone())
			q.Exclude = append(q.Exclude, p.JID)
		}
	}
	if len(out) > max {
		out = out[:max]
	}
	return out
}

// rated gives providers without a valid category the one rating computes.
func rated(l providers.List) providers.List {
	if !slices.ContainsFunc(l.Providers, func(p providers.Provider) bool { return !p.Category.Valid() }) {
		return l
	}
	l = l.Clone()
	at := time.Now()
	if !l.Published.IsZero() {
		at = l.Published.Time()
	}
	for i := range l.Providers {
		if p := &l.Providers[i]; !p.Category.Valid() {
			p.Category = rating.Evaluate(*p, at).Category
		}
	}
	return l
}

// dialForm opens a secured stream to domain and gets its registration
// form, sending the invitation token first where invitations are
// advertised (register.Dialer.DialForm: the request goes out with the
// secured stream header).
func (r *run) dialForm(ctx context.Context, domain string, emit func(Event)) (*register.Conn, *register.Form, error) {
	return r.s.Dialer.DialForm(ctx, domain, register.FormOptions{Token: r.token, Progress: forward(emit), Username: r.username})
}

// forward returns a register progress function that reports the stages
// Signup reports too (secured, registered) through emit, as they happen.
func forward(emit func(Event)) func(register.Event) {
	return func(e register.Event) {
		switch e.Stage {
		case register.StageGreeted:
			emit(Event{Stage: stageGreeted, Domain: e.Domain})
		case register.StageSecured:
			emit(Event{Stage: StageSecured, Domain: e.Domain, Addr: e.Addr, TLSVersion: e.TLS.Version})
		case register.StageRegistered:
			emit(Event{Stage: StageRegistered, Domain: e.Domain, Username: e.Username})
			emit(Event{Stage: StageLoggingIn, Domain: e.Domain})
		}
	}
}

// verifyOne connects to p and fetches its registration form, within
// Timeout. The form must be one Run can fill.
func (r *run) verifyOne(ctx context.Context, p providers.Provider, emit func(Event)) (*verified, *AttemptError) {
	start := time.Now()
	domain := p.JID
	fail := func(err error) (*verified, *AttemptError) {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil && r.s.timeout() > 0 {
			err = &timeoutError{d: r.s.timeout(), err: err}
		}
		return nil, &AttemptError{Domain: domain, Step: StepVerify, Elapsed: time.Since(start), Err: err}
	}
	actx, cancel := xmppconn.WithTimeout(ctx, r.s.timeout())
	defer cancel()
	emit(Event{Stage: StageConnecting, Domain: domain})
	conn, f, err := r.dialForm(actx, domain, emit)
	if err != nil {
		return fail(err)
	}
	ok := false
	defer func() {
		if !ok {
			conn.Close()
		}
	}()
	emit(Event{Stage: StageForm, Domain: domain})
	if err := r.fillable(f); err != nil {
		return fail(err)
	}
	ok = true
	return &verified{p: p, conn: conn, form: f, start: start}, nil
}

// fillable reports why Run cannot fill f, or nil.
func (r *run) fillable(f *register.Form) error {
	if f.Registered {
		return &register.Error{Op: "form", Kind: register.KindAlreadyRegistered, Form: f}
	}
	if f.WebOnly() {
		return &register.Error{Op: "form", Kind: register.KindWebOnly, RedirectURL: f.RedirectURL,
			PlainHTTP: f.RedirectURL == "" && f.RedirectPlainHTTP, Form: f}
	}
	if f.Captcha != nil && r.s.SolveCaptcha == nil {
		return &register.Error{Op: "form", Kind: register.KindFormIncomplete, Fields: []string{f.Captcha.Field}, Form: f, Err: ErrNoSolver}
	}
	if extra := extraFields(f); len(extra) > 0 && r.s.FillForm == nil {
		return &register.Error{Op: "form", Kind: register.KindFormIncomplete, Fields: extra, Form: f, Err: ErrMoreFields}
	}
	return nil
}

// extraFields names the empty required fields other than the username,
// the password and the CAPTCHA answers (every challenge of the form is
// for SolveCaptcha, see solveCaptchas).
func extraFields(f *register.Form) []string {
	var out []string
	for _, fl := range f.Missing() {
		if fl.Var == "username" || fl.Var == "password" || captchaField(f, fl.Var) {
			continue
		}
		out = append(out, fl.Var)
	}
	return out
}

// captchaField reports whether v is the answer field of a challenge of f.
func captchaField(f *register.Form, v string) bool {
	for _, c := range f.Captchas {
		if c.Field == v {
			return true
		}
	}
	return f.Captcha != nil && f.Captcha.Field == v
}

// solveCaptchas asks SolveCaptcha for every challenge the form still needs
// (register.Form.NextCaptcha: the required ones, then as many as the form
// asks for), each at most once. wrong and prev tell the solver about the
// answers the server refused before (Captcha.Retry, PreviousError).
func (r *run) solveCaptchas(ctx context.Context, domain string, f *register.Form, wrong int, prev error) error {
	asked := map[string]bool{}
	for range len(f.Captchas) + 1 {
		c := f.NextCaptcha()
		if c != nil && asked[c.Field] {
			// The solver gave no answer to that one: offer another.
			c = nil
			for _, o := range f.Captchas {
				if !asked[o.Field] && !o.Required && f.Field(o.Field) != nil && f.Field(o.Field).Value() == "" {
					c = o
					break
				}
			}
		}
		if c == nil {
			return nil
		}
		asked[c.Field] = true
		c.Retry, c.PreviousError = wrong, prev
		ans, err := r.s.SolveCaptcha(ctx, domain, c)
		if err != nil {
			return err
		}
		if err := f.Set(c.Field, ans); err != nil {
			return err
		}
	}
	return nil
}

// register creates the account on the verified provider, on the
// connection and with the form of the verification, and logs in. It
// returns either a result and an error for the caller, or (with nil
// result and error) the failure after which the next provider is tried.
func (r *run) register(ctx context.Context, v *verified) (*Result, *AttemptError, error) {
	domain, conn, f := v.p.JID, v.conn, v.form
	if r.pwGenerated && r.passwordSent {
		// A generated password that an earlier provider may have
		// received is not sent to this one.
		r.password = RandomPassword()
	}
	handedOff := false
	defer func() {
		if !handedOff {
			conn.Close()
		}
	}()
	attempt := func(step string, err error) *AttemptError {
		return &AttemptError{Domain: domain, Step: step, Elapsed: time.Since(v.start), Err: err}
	}
	fallback := func(step string, err error) (*Result, *AttemptError, error) {
		if ctx.Err() != nil {
			return nil, nil, attempt(step, err)
		}
		return nil, attempt(step, err), nil
	}
	stop := func(step string, err error) (*Result, *AttemptError, error) {
		return nil, nil, attempt(step, err)
	}
	// The connection's events now come on this goroutine.
	conn.SetProgress(forward(r.event))
	user := r.username
	wrong, renamed := 0, 0
	var captchaErr error // the server's refusal of the last CAPTCHA answer
	for {
		if err := r.fillable(f); err != nil {
			// A new form (after a wrong CAPTCHA) may ask for more.
			return fallback(StepSubmit, err)
		}
		if err := f.SetUsername(user); err != nil {
			return fallback(StepSubmit, err)
		}
		if err := f.SetPassword(r.password); err != nil {
			return fallback(StepSubmit, err)
		}
		if f.Captcha != nil || len(extraFields(f)) > 0 {
			r.event(Event{Stage: StageCaptcha, Domain: domain})
			if f.Captcha != nil {
				if err := r.solveCaptchas(ctx, domain, f, wrong, captchaErr); err != nil {
					return fallback(StepCaptcha, err)
				}
			}
			if len(extraFields(f)) > 0 {
				if err := r.s.FillForm(ctx, domain, f); err != nil {
					return fallback(StepCaptcha, err)
				}
				f.SetUsername(user)
				f.SetPassword(r.password)
			}
		}
		r.event(Event{Stage: StageSubmitting, Domain: domain, Username: user})
		acct, err := conn.Register(ctx, f, true)
		if acct != nil {
			// Created; the login went with the submission.
			res, rerr := r.result(v.p, acct.JID.Localpart())
			if rerr != nil {
				return nil, nil, attempt(StepSubmit, rerr)
			}
			if err != nil {
				return res, nil, attempt(StepLogin, err)
			}
			handedOff = true
			res.Token = acct.Token
			return r.loggedIn(ctx, res, acct.Session), nil, nil
		}
		if errors.Is(err, register.ErrNoMechanism) {
			// Nothing was submitted: no login could follow.
			return fallback(StepSubmit, err)
		}
		if re := (*register.Error)(nil); errors.As(err, &re) && re.Kind == register.KindFormIncomplete && re.Stanza == nil {
			// Refused before sending (a field still empty or invalid):
			// nothing went out.
			return fallback(StepSubmit, err)
		}
		r.passwordSent = true
		switch {
		case ctx.Err() != nil:
			return stop(StepSubmit, err)
		case errors.Is(err, register.ErrOutcomeUnknown):
			conn.Close()
			return r.confirm(ctx, v, user, err)
		case errors.Is(err, register.ErrUsernameTaken):
			if !r.userGenerated && !r.s.RenameTyped && r.s.Rename == nil {
				// A typed name is the user's choice: they choose
				// another one (see Signup.RenameTyped).
				return stop(StepSubmit, &UsernameTakenError{Domain: domain, Username: user, Suggestions: suggestions(user), Err: err})
			}
			renamed++
			if renamed > r.s.renames() {
				return stop(StepSubmit, err)
			}
			nu, rerr := r.rename(ctx, domain, user)
			if rerr != nil {
				return stop(StepUsername, fmt.Errorf("%w (no other name: %w)", err, rerr))
			}
			r.event(Event{Stage: StageUsernameTaken, Domain: domain, Username: nu, Err: err})
			user = nu
		case errors.Is(err, register.ErrCaptchaFailed):
			wrong++
			captchaErr = err
			if wrong >= r.s.captchaTries() {
				return fallback(StepSubmit, err)
			}
			if re := (*register.Error)(nil); errors.As(err, &re) && re.Form != nil && re.Form.Captcha != nil {
				// The server sent a new challenge with the refusal.
				f = re.Form
				continue
			}
		case errors.Is(err, register.ErrWeakPassword) && !r.pwGenerated,
			errors.Is(err, register.ErrInvalidUsername) && !r.userGenerated:
			return stop(StepSubmit, err)
		default:
			return fallback(StepSubmit, err)
		}
		if f.Captcha != nil {
			// A CAPTCHA is good for one submission: get a new one on the
			// same stream.
			nf, ferr := conn.Form(ctx)
			if ferr != nil {
				return fallback(StepSubmit, ferr)
			}
			f = nf
		}
	}
}

// result builds the Result for the account user on p.
func (r *run) result(p providers.Provider, user string) (*Result, error) {
	j, err := jid.New(user, p.JID, "")
	if err != nil {
		return nil, err
	}
	return &Result{
		JID:               j,
		Password:          r.password,
		PasswordGenerated: r.pwGenerated,
		Provider:          p,
		Info:              Describe(p, r.s.Language),
		Attempts:          r.attempts,
	}, nil
}

func (r *run) loggedIn(ctx context.Context, res *Result, sess *xmpp.Session) *Result {
	res.Session = sess
	domain := res.JID.Domainpart()
	r.event(Event{Stage: StageLoggedIn, Domain: domain})
	if r.s.Probe != nil && ctx.Err() == nil {
		r.event(Event{Stage: StageProbing, Domain: domain})
		p := *r.s.Probe
		p.Account = &discovery.Credentials{Username: res.JID.Localpart(), Password: r.password}
		rep, err := p.Probe(ctx, domain)
		if err == nil {
			live, fields := rep.Provider()
			merged, _ := rating.Merge(res.Provider, live, fields)
			merged.JID = domain
			res.Provider = merged
			res.Info = Describe(merged, r.s.Language)
			res.Report = &rep
		}
	}
	return res
}

// suggestions returns other names to offer when the typed name taken is
// taken: the name with a few digits. They are not checked with the server
// (only a registration could tell).
func suggestions(taken string) []string {
	var out []string
	for len(out) < 3 {
		u, err := register.NormalizeUsername(taken + randomDigits(2+randIntN(3)))
		if err != nil {
			break
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// rename returns the next username to try after taken.
func (r *run) rename(ctx context.Context, domain, taken string) (string, error) {
	var u string
	switch {
	case r.s.Rename != nil:
		var err error
		if u, err = r.s.Rename(ctx, domain, taken); err != nil {
			return "", err
		}
	case r.userGenerated:
		u = RandomUsername()
	default:
		// The wanted name with two to four digits, not digits on digits.
		u = r.username + randomDigits(2+randIntN(3))
	}
	return register.NormalizeUsername(u)
}

// confirm finds out whether the account exists after the connection broke
// with the form sent: it logs in on a new connection. Created: the result
// with that session. Refused: not created, try the next provider.
// Anything else: the unknown outcome is returned.
func (r *run) confirm(ctx context.Context, v *verified, user string, cause error) (*Result, *AttemptError, error) {
	domain := v.p.JID
	attempt := func(err error) *AttemptError {
		return &AttemptError{Domain: domain, Step: StepConfirm, Elapsed: time.Since(v.start), Err: err}
	}
	actx, cancel := xmppconn.WithTimeout(ctx, r.s.timeout())
	defer cancel()
	conn, err := r.s.Dialer.Dial(actx, domain)
	if err != nil {
		return nil, nil, attempt(fmt.Errorf("%w; confirming failed: %w", cause, err))
	}
	r.event(Event{Stage: StageLoggingIn, Domain: domain})
	sess, err := conn.Login(actx, user, r.password)
	if err != nil {
		conn.Close()
		var se *register.SASLError
		if errors.As(err, &se) && se.Condition == register.SASLNotAuthorized && ctx.Err() == nil {
			return nil, attempt(fmt.Errorf("%w; the account was not created", cause)), nil
		}
		return nil, nil, attempt(fmt.Errorf("%w; confirming failed: %w", cause, err))
	}
	r.event(Event{Stage: StageRegistered, Domain: domain, Username: user})
	res, err := r.result(v.p, user)
	if err != nil {
		sess.Close()
		sess.Conn().Close()
		return nil, nil, attempt(err)
	}
	return r.loggedIn(ctx, res, sess), nil, nil
}

// redirect offers the web-only providers to AcceptRedirect, in the order
// they failed.
func (r *run) redirect(ctx context.Context) *Result {
	for _, a := range r.attempts {
		var e *register.Error
		if !errors.As(a.Err, &e) || e.Kind != register.KindWebOnly || !strings.HasPrefix(e.RedirectURL, "https://") {
			continue
		}
		if r.s.AcceptRedirect(ctx, a.Domain, e.RedirectURL) {
			p := r.byDomain[a.Domain]
			return &Result{
				Provider:    p,
				Info:        Describe(p, r.s.Language),
				RedirectURL: e.RedirectURL,
				Attempts:    r.attempts,
			}
		}
	}
	return nil
}

// timeoutError is a provider that did not answer within Signup.Timeout.
type timeoutError struct {
	d   time.Duration
	err error
}

func (e *timeoutError) Error() string { return "no answer within " + e.d.String() }
func (e *timeoutError) Unwrap() error { return e.err }
