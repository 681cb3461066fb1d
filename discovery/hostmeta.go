package discovery

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
	"io"
	"net/http"
	"slices"
	"sync"

	"github.com/xmpp-onboard/onboard/internal/netguard"
)

const (
	nsXRD = "http://docs.oasis-open.org/ns/xri/xrd-1.0"
	// The link relations of XEP-0156.
	relWebSocket = "urn:xmpp:alt-connections:websocket"
	relBOSH      = "urn:xmpp:alt-connections:xbosh"
	// maxLinks caps the links kept from one document.
	maxLinks = 64
)

// legacyRels are old or wrong relations seen in the wild, tolerated and
// reported as problems.
var legacyRels = map[string]string{
	"urn:xmpp:altconnect:websocket": "websocket",
	"urn:xmpp:altconnect:bosh":      "bosh",
	"urn:xmpp:altconnect:xbosh":     "bosh",
	"urn:xmpp:alt-connections:bosh": "bosh",
}

func (p *Prober) probeHostMeta(ctx context.Context, c *http.Client, domain string) HostMeta {
	var hm HostMeta
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		hm.XML = p.fetchHostMeta(ctx, c, "https://"+domain+"/.well-known/host-meta", "application/xrd+xml", parseHostMetaXML)
	}()
	go func() {
		defer wg.Done()
		hm.JSON = p.fetchHostMeta(ctx, c, "https://"+domain+"/.well-known/host-meta.json", "application/json", parseHostMetaJSON)
	}()
	wg.Wait()
	took := max(hm.XML.Status.Took, hm.JSON.Status.Took)
	switch {
	case hm.XML.Status.State == Observed || hm.JSON.Status.State == Observed:
		hm.Status = observed(took)
	case hm.XML.Status.State == Absent && hm.JSON.Status.State == Absent:
		hm.Status = absent("no host-meta document", nil, took)
	default:
		err := hm.XML.Status.Err
		if err == nil {
			err = hm.JSON.Status.Err
		}
		hm.Status = unknown("host-meta not fetched", err, took)
	}
	for _, d := range []HostMetaDoc{hm.XML, hm.JSON} {
		for _, l := range d.Links {
			switch {
			case l.Method == "websocket" && secureURL(l.Href, "wss") && !slices.Contains(hm.WebSocket, l.Href):
				hm.WebSocket = append(hm.WebSocket, l.Href)
			case l.Method == "bosh" && secureURL(l.Href, "https") && !slices.Contains(hm.BOSH, l.Href):
				hm.BOSH = append(hm.BOSH, l.Href)
			}
		}
	}
	return hm
}

func (p *Prober) fetchHostMeta(ctx context.Context, c *http.Client, u, accept string, parse func([]byte) ([]Link, []string, error)) HostMetaDoc {
	var d HostMetaDoc
	f, err := p.fetch(ctx, c, u, accept, MaxHostMetaBytes)
	d.URL = f.url
	switch {
	case errors.Is(err, ErrTooLarge):
		d.Status = observed(f.took)
		d.Status.Reason, d.Status.Err = "document too large", err
		return d
	case err != nil:
		d.Status = fetchFailure(err, f.took)
		return d
	case f.status != http.StatusOK:
		d.Status = httpStatusState(f.status, f.took)
		return d
	}
	d.Status = observed(f.took)
	d.Links, d.Problems, err = parse(f.body)
	if err != nil {
		d.Status.Reason, d.Status.Err = "invalid document", err
	}
	return d
}

// secureURL reports whether s is a link with the scheme ("wss" or
// "https") that netguard.Link accepts: a public host, no user information,
// no control or bidi characters.
func secureURL(s, scheme string) bool {
	_, ok := netguard.Link(s, scheme)
	return ok
}

// classify fills Method and Legacy of a link and returns a problem, if any.
func classify(l *Link) string {
	switch l.Rel {
	case relWebSocket:
		l.Method = "websocket"
	case relBOSH:
		l.Method = "bosh"
	default:
		m, ok := legacyRels[l.Rel]
		if !ok {
			return ""
		}
		l.Method, l.Legacy = m, true
		want := relWebSocket
		if m == "bosh" {
			want = relBOSH
		}
		return fmt.Sprintf("old or wrong link relation %q (XEP-0156 uses %q)", l.Rel, want)
	}
	return ""
}

// linkProblems checks a classified link's URL.
func linkProblems(l Link) []string {
	switch {
	case l.Method == "websocket" && !secureURL(l.Href, "wss"):
		return []string{"a WebSocket endpoint is not a wss:// URL to a public host; ignored"}
	case l.Method == "bosh" && !secureURL(l.Href, "https"):
		return []string{"a BOSH endpoint is not an https:// URL to a public host; ignored"}
	}
	return nil
}

func addLink(links []Link, problems []string, rel, href string) ([]Link, []string) {
	if len(links) >= maxLinks {
		return links, problems
	}
	l := Link{Rel: clipString(rel), Href: clipString(href)}
	if pr := classify(&l); pr != "" {
		problems = append(problems, pr)
	}
	lp := linkProblems(l)
	problems = append(problems, lp...)
	// The report keeps the address only of a link it can use: the rest
	// may be anything (the document may not even be host-meta), so only
	// their relation is kept, sanitised and clipped.
	if l.Method == "" || len(lp) > 0 {
		l.Rel, l.Href = safeKey(l.Rel), ""
	}
	return append(links, l), problems
}

// parseHostMetaXML reads an XRD host-meta document (RFC 6415). A root
// element without the XRD namespace is tolerated and reported.
func parseHostMetaXML(b []byte) (links []Link, problems []string, err error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var root *xml.StartElement
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return links, problems, fmt.Errorf("%w: host-meta: %v", ErrProtocol, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > xmppconn.MaxDepth {
				return links, problems, errXMLLimits
			}
			if root == nil {
				r := t.Copy()
				root = &r
				if t.Name.Local != "XRD" {
					return nil, nil, fmt.Errorf("%w: host-meta: root element is <%s>, not <XRD>", ErrProtocol, safeKey(t.Name.Local))
				}
				if t.Name.Space != nsXRD {
					problems = append(problems, fmt.Sprintf("XRD element not in namespace %q", nsXRD))
				}
				continue
			}
			if depth == 2 && t.Name.Local == "Link" {
				var rel, href string
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "rel":
						rel = a.Value
					case "href":
						href = a.Value
					}
				}
				links, problems = addLink(links, problems, rel, href)
			}
		case xml.EndElement:
			depth--
		}
	}
	if root == nil {
		return nil, nil, fmt.Errorf("%w: host-meta: no XRD element", ErrProtocol)
	}
	return links, problems, nil
}

// parseHostMetaJSON reads a JRD host-meta.json document (RFC 6415 appendix
// A).
func parseHostMetaJSON(b []byte) (links []Link, problems []string, err error) {
	var doc struct {
		Links []json.RawMessage `json:"links"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, nil, fmt.Errorf("%w: host-meta.json: %v", ErrProtocol, err)
	}
	for i, raw := range doc.Links {
		var l struct {
			Rel  *string `json:"rel"`
			Href *string `json:"href"`
		}
		if err := json.Unmarshal(raw, &l); err != nil || l.Rel == nil {
			if len(problems) < maxLinks {
				problems = append(problems, fmt.Sprintf("link %d is not an object with a string rel", i))
			}
			continue
		}
		href := ""
		if l.Href != nil {
			href = *l.Href
		}
		links, problems = addLink(links, problems, *l.Rel, href)
	}
	return links, problems, nil
}
