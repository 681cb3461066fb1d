package discovery

import (
	"context"
	"errors"
	"fmt"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/xmpp-onboard/onboard/internal/netguard"
)

// Size limits of the HTTP documents.
const (
	// MaxProviderFileBytes is the size limit of a provider file (1 MiB).
	MaxProviderFileBytes = 1 << 20
	// MaxHostMetaBytes is the size limit of a host-meta document (64 KiB).
	MaxHostMetaBytes = 64 << 10
	// maxRedirects is how many redirects the default client follows.
	maxRedirects = 5
)

// httpClient returns the client to use and a function to call when the
// probe is done. Without Prober.HTTPClient it builds a client for this probe
// alone (so nothing is shared between probes): https only, a few redirects,
// dialing through Prober.Dialer. Every request and redirect goes only
// where pol allows: the redirect's host is checked before it is followed,
// and the address connected to when dialing (see netguard.Policy.Dialer).
// A restricting policy does not use the environment's proxy, whose
// connections it could not check.
func (p *Prober) httpClient(pol netguard.Policy) (*http.Client, func()) {
	if p.HTTPClient != nil {
		// A copy whose redirects are refused before the request when
		// they leave https or the policy; the caller's own policy runs
		// after.
		c := *p.HTTPClient
		orig := c.CheckRedirect
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if err := checkRedirect(pol, req); err != nil {
				return err
			}
			if orig != nil {
				return orig(req, via)
			}
			if len(via) >= 10 {
				// net/http's default policy.
				return errors.New("discovery: stopped after 10 redirects")
			}
			return nil
		}
		if pol == netguard.AllowAll {
			return &c, func() {}
		}
		// Check the addresses connected to, too, on a copy of the
		// caller's transport.
		var tr *http.Transport
		switch t := c.Transport.(type) {
		case nil:
			tr = http.DefaultTransport.(*http.Transport).Clone()
		case *http.Transport:
			tr = t.Clone()
		default:
			return &c, func() {}
		}
		var d netguard.ContextDialer = p.NetDialer
		if tr.DialContext != nil {
			d = dialFunc(tr.DialContext)
		}
		tr.DialContext = pol.Dialer(d).DialContext
		if tls := tr.DialTLSContext; tls != nil {
			tr.DialTLSContext = pol.Dialer(dialFunc(tls)).DialContext
		}
		tr.Proxy = nil
		c.Transport = tr
		return &c, tr.CloseIdleConnections
	}
	tr := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            pol.Dialer(p.NetDialer).DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    p.httpTimeout(),
		ResponseHeaderTimeout:  p.httpTimeout(),
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConns:           4,
		IdleConnTimeout:        time.Second,
	}
	if pol != netguard.AllowAll {
		tr.Proxy = nil
	}
	if p.TLSConfig != nil {
		tr.TLSClientConfig = p.TLSConfig.Clone()
		tr.TLSClientConfig.ServerName = ""
		tr.TLSClientConfig.NextProtos = nil
	}
	c := &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("discovery: more than %d redirects", maxRedirects)
			}
			return checkRedirect(pol, req)
		},
	}
	return c, tr.CloseIdleConnections
}

// checkRedirect refuses a redirect away from https or to a host pol
// refuses (an IP address that is not public, localhost).
func checkRedirect(pol netguard.Policy, req *http.Request) error {
	if req.URL.Scheme != "https" {
		return fmt.Errorf("%w: redirect to %s", ErrNotHTTPS, req.URL.Redacted())
	}
	if err := pol.Check(req.URL.Hostname()); err != nil {
		return fmt.Errorf("discovery: redirect refused: %w", err)
	}
	return nil
}

// dialFunc is a dial function as a netguard.ContextDialer.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

func (f dialFunc) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return f(ctx, network, addr)
}

// fetched is the outcome of one HTTP GET.
type fetched struct {
	body   []byte
	url    string // final URL
	status int
	took   time.Duration
}

// fetch GETs an https URL, reading at most limit bytes of a 200 response.
func (p *Prober) fetch(ctx context.Context, c *http.Client, url, accept string, limit int64) (fetched, error) {
	t0 := time.Now()
	ctx, cancel := xmppconn.WithTimeout(ctx, p.httpTimeout())
	defer cancel()
	f := fetched{url: url}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return f, err
	}
	if req.URL.Scheme != "https" {
		return f, fmt.Errorf("%w: %s", ErrNotHTTPS, req.URL.Redacted())
	}
	req.Header.Set("Accept", accept)
	if p.UserAgent != "" {
		req.Header.Set("User-Agent", p.UserAgent)
	}
	resp, err := c.Do(req)
	if err != nil {
		f.took = time.Since(t0)
		return f, httpErr(ctx, err)
	}
	defer resp.Body.Close()
	f.status = resp.StatusCode
	f.url = resp.Request.URL.String()
	// An injected client may follow redirects anywhere; refuse the result
	// of one that left https.
	if resp.Request.URL.Scheme != "https" {
		f.took = time.Since(t0)
		return f, fmt.Errorf("%w: redirected to %s", ErrNotHTTPS, resp.Request.URL.Redacted())
	}
	if resp.StatusCode != http.StatusOK {
		f.took = time.Since(t0)
		return f, nil
	}
	f.body, err = io.ReadAll(io.LimitReader(resp.Body, limit+1))
	f.took = time.Since(t0)
	if err == nil && ctx.Err() != nil {
		// net/http may end a body cut by the timeout with a nil error:
		// what was read is not the whole document.
		err = ctx.Err()
	}
	if err != nil {
		f.body = nil
		return f, httpErr(ctx, err)
	}
	if int64(len(f.body)) > limit {
		f.body = nil
		return f, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return f, nil
}

// httpErr prefers the context's error (a timeout) over what it caused.
func httpErr(ctx context.Context, err error) error {
	if c := context.Cause(ctx); c != nil {
		return fmt.Errorf("discovery: %w", c)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("discovery: %w", context.DeadlineExceeded)
	}
	return err
}

// fetchFailure is the status of a fetch that failed: no web server at all
// (connection refused, no address) means the document is absent.
func fetchFailure(err error, took time.Duration) Status {
	var de *net.DNSError
	switch {
	case errors.Is(err, ErrForbiddenDestination):
		return unknown("not fetched: the address is not public (Prober.Destinations)", err, took)
	case errors.Is(err, syscall.ECONNREFUSED):
		return absent("no HTTPS server", err, took)
	case errors.As(err, &de) && de.IsNotFound:
		return absent("the domain has no address", err, took)
	}
	return unknown("fetch failed", err, took)
}

// httpStatusState maps a non-200 status to a part state: 404 and 410 say
// the document does not exist.
func httpStatusState(status int, took time.Duration) Status {
	switch status {
	case http.StatusNotFound, http.StatusGone:
		return absent(fmt.Sprintf("HTTP %d", status), nil, took)
	}
	return unknown(fmt.Sprintf("HTTP %d", status), fmt.Errorf("discovery: HTTP status %d", status), took)
}
