package register

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/html"
)

// Defaults of [InviteFetcher].
const (
	// DefaultInvitePageSize is the default for InviteFetcher.MaxSize.
	DefaultInvitePageSize = 256 << 10
	// DefaultInvitePageTimeout is the default for InviteFetcher.Timeout.
	DefaultInvitePageTimeout = 10 * time.Second
	// maxInviteRedirects bounds the redirects followed to a page.
	maxInviteRedirects = 3
)

// InviteFetcher reads invitations given as links to an invitation web
// page, as people receive them from Prosody's mod_invites_page
// ("https://example.org/invite?TOKEN"): it fetches the page over https and
// takes the XMPP URI of its <link rel="alternate" href="xmpp:…"/>. Links
// that carry the URI after "#" (easy-xmpp-invitation landing pages) and
// plain URIs or tokens are parsed without fetching anything
// ([ParseInvite]).
//
// Fetching a link from a message is the application's decision: nothing
// in this package fetches a page unless it is given an InviteFetcher. The
// zero value is ready to use: https only (redirects too, at most three),
// public addresses only, at most [DefaultInvitePageSize] bytes within
// [DefaultInvitePageTimeout], no proxy, no cookies.
type InviteFetcher struct {
	// Client, if set, sends the requests (tests and applications with a
	// transport of their own). Its redirects are still limited to https
	// and to Destinations, which is then checked on the host names of the
	// links only (the client resolves them); without Client the check
	// also runs on each connection's IP address, after name resolution.
	Client *http.Client
	// TLSConfig is the TLS configuration of the fetcher's own transport
	// (without Client), for example a private CA; nil means the system's.
	TLSConfig *tls.Config
	// Destinations says where a page may be fetched from.
	// DefaultDestinations (the zero value) means PublicOnly here: a link
	// from a message is foreign input. AllowAll is for an application's
	// own server on a private network, and tests.
	Destinations Destinations
	// MaxSize bounds the bytes read of a page; 0 means
	// DefaultInvitePageSize. A larger page is refused (ErrTooLarge).
	MaxSize int64
	// Timeout bounds the fetch; 0 means DefaultInvitePageTimeout.
	Timeout time.Duration
}

// Resolve returns the invitation s names: [ParseInvite]'s result, or, for
// a link to an invitation page ([ErrInvitePage]), the invitation of the
// page's rel=alternate xmpp: link. Errors match ErrMalformedInvite, and
// also ErrTooLarge for a page above MaxSize, ErrForbiddenDestination for a
// refused address, and the context's error.
func (f *InviteFetcher) Resolve(ctx context.Context, s string) (Invite, error) {
	inv, err := ParseInvite(s)
	if err == nil || !errors.Is(err, ErrInvitePage) {
		return inv, err
	}
	page, _, _ := strings.Cut(strings.TrimSpace(s), "#")
	uri, err := f.fetch(ctx, page)
	if err != nil {
		return Invite{}, fmt.Errorf("%w: the invitation page %s: %w", ErrMalformedInvite, redactQuery(page), err)
	}
	inv, err = ParseInvite(uri)
	if err != nil {
		return Invite{}, fmt.Errorf("%w (from the invitation page %s)", err, redactQuery(page))
	}
	return inv, nil
}

func (f *InviteFetcher) policy() Destinations { return f.Destinations.Or(PublicOnly) }

// client returns the HTTP client for a fetch: Client with its redirects
// checked, or a client of the fetcher's own.
func (f *InviteFetcher) client() *http.Client {
	pol := f.policy()
	check := func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxInviteRedirects {
			return fmt.Errorf("more than %d redirects", maxInviteRedirects)
		}
		return checkPageURL(req.URL, pol)
	}
	var c http.Client
	if f.Client != nil {
		c = *f.Client
		if prev := f.Client.CheckRedirect; prev != nil {
			check = func(req *http.Request, via []*http.Request) error {
				if err := checkPageURL(req.URL, pol); err != nil {
					return err
				}
				if len(via) >= maxInviteRedirects {
					return fmt.Errorf("more than %d redirects", maxInviteRedirects)
				}
				return prev(req, via)
			}
		}
	} else {
		t := &http.Transport{
			DialContext:            pol.Dialer(nil).DialContext,
			TLSClientConfig:        f.TLSConfig,
			TLSHandshakeTimeout:    f.timeout(),
			ResponseHeaderTimeout:  f.timeout(),
			MaxResponseHeaderBytes: 64 << 10,
			DisableKeepAlives:      true,
			ForceAttemptHTTP2:      true,
		}
		c.Transport = t
	}
	c.CheckRedirect = check
	c.Jar = nil
	return &c
}

func (f *InviteFetcher) timeout() time.Duration {
	if f.Timeout > 0 {
		return f.Timeout
	}
	return DefaultInvitePageTimeout
}

func (f *InviteFetcher) maxSize() int64 {
	if f.MaxSize > 0 {
		return f.MaxSize
	}
	return DefaultInvitePageSize
}

// checkPageURL refuses a page link that is not https or whose host the
// policy refuses (names are checked as far as they can be without
// resolving them).
func checkPageURL(u *url.URL, pol Destinations) error {
	if u.Scheme != "https" || u.Host == "" || u.User != nil {
		return fmt.Errorf("%q is not an https link", u.Redacted())
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	return pol.Check(u.Hostname() + ":" + port)
}

// fetch gets the page and returns the href of its first
// <link rel="alternate"> whose target is an xmpp: URI.
func (f *InviteFetcher) fetch(ctx context.Context, page string) (string, error) {
	u, err := url.Parse(page)
	if err != nil {
		return "", err
	}
	pol := f.policy()
	if err := checkPageURL(u, pol); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "text/html, application/xhtml+xml")
	resp, err := f.client().Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		if mt != "text/html" && mt != "application/xhtml+xml" {
			return "", fmt.Errorf("the page is %q, not HTML", clipInvite(mt))
		}
	}
	max := f.maxSize()
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return "", err
	}
	if int64(len(body)) > max {
		return "", &limitError{what: fmt.Sprintf("an invitation page larger than %d bytes", max)}
	}
	if uri := alternateXMPP(string(body)); uri != "" {
		return uri, nil
	}
	return "", errors.New("the page has no <link rel=\"alternate\"> to an xmpp: URI")
}

// alternateXMPP returns the href of the first <link> element whose rel
// holds "alternate" and whose href is an xmpp: URI, or "".
func alternateXMPP(page string) string {
	z := html.NewTokenizer(strings.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			name, more := z.TagName()
			if string(name) != "link" || !more {
				continue
			}
			var rel, href string
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				switch string(k) {
				case "rel":
					rel = string(v)
				case "href":
					href = strings.TrimSpace(string(v))
				}
			}
			alt := false
			for _, r := range strings.Fields(strings.ToLower(rel)) {
				alt = alt || r == "alternate"
			}
			if alt && len(href) > 5 && strings.EqualFold(href[:5], "xmpp:") {
				return href
			}
		}
	}
}
