package discovery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"mellium.im/xmpp/stanza"

	"github.com/xmpp-onboard/onboard/internal/xmppconn"
)

// maxServiceInfos caps how many disco#items entries are asked for their
// disco#info.
const maxServiceInfos = 64

// pending is a query and what to do with its answer.
type pending struct {
	req   iqRequest
	apply func(iqResult)
}

// ask sends the queries in one batch and applies the answers.
func ask(ctx context.Context, s *xstream, ps []pending) {
	reqs := make([]iqRequest, len(ps))
	for i := range ps {
		reqs[i] = ps[i].req
	}
	for i, res := range s.exchange(ctx, reqs) {
		ps[i].apply(res)
	}
}

func registerQuery() iqRequest {
	return iqRequest{name: "register", payload: xmppconn.New(nsRegister, "query")}
}

func infoQuery(to, node string) iqRequest {
	return iqRequest{name: "disco#info", to: to, payload: xmppconn.New(nsDiscoInfo, "query", "node", node)}
}

func versionQuery(to string) iqRequest {
	return iqRequest{name: "version", to: to, payload: xmppconn.New(nsVersion, "query")}
}

func itemsQuery(to string) iqRequest {
	return iqRequest{name: "disco#items", to: to, payload: xmppconn.New(nsDiscoItems, "query")}
}

// xmpp probes the XMPP side of a domain: both ports, then the queries on
// the better stream, then (with an account) the queries that need one.
func (p *Prober) xmpp(ctx context.Context, domain string, res resolution, r *Report, batch bool) {
	s, direct := p.connectBoth(ctx, domain, res, r)
	conn := &r.StartTLS
	if direct {
		conn = &r.DirectTLS
	}
	if s == nil {
		if p.skip(PartStartTLS) && p.skip(PartDirectTLS) {
			p.setXMPPParts(r, skipped())
			return
		}
		st := unknown("no encrypted XMPP stream", nil, 0)
		switch {
		case errors.Is(r.StartTLS.Status.Err, ErrNoTLS):
			st.Reason = "no encrypted XMPP stream: the server offers no TLS"
		case r.StartTLS.Status.State == Absent && r.DirectTLS.Status.State != Observed:
			st.Reason = "no XMPP service reachable"
		}
		if err := r.StartTLS.Status.Err; err != nil {
			st.Err = err
		} else {
			st.Err = r.DirectTLS.Status.Err
		}
		p.setXMPPParts(r, st)
		return
	}
	defer func() { s.close() }()

	p.queryParts(ctx, domain, s, conn.Features, r, false)
	if p.Account == nil {
		r.Login.Status = unknown("no account given", ErrSkipped, 0)
	} else {
		s = p.withAccount(ctx, domain, s, direct, res, r, batch)
	}
	deriveServices(domain, r)
}

// setXMPPParts sets the status of every part learned over XMPP.
func (p *Prober) setXMPPParts(r *Report, st Status) {
	set := func(part Part, dst *Status) {
		if p.skip(part) {
			*dst = skipped()
		} else {
			*dst = st
		}
	}
	set(PartRegistration, &r.Registration.Status)
	set(PartServerInfo, &r.ServerInfo.Status)
	set(PartServerInfo, &r.Contacts.Status)
	set(PartSoftware, &r.Software.Status)
	set(PartServices, &r.Services.Status)
	set(PartServices, &r.Upload.Status)
	set(PartServices, &r.MUC.Status)
	set(PartServices, &r.Proxy.Status)
	if p.Account == nil {
		r.Login.Status = unknown("no account given", ErrSkipped, 0)
	} else {
		r.Login.Status = st
	}
}

// queryParts asks for every part that is not skipped and, when authed is
// true, not already observed.
func (p *Prober) queryParts(ctx context.Context, domain string, s *xstream, f *Features, r *Report, authed bool) {
	want := func(part Part, st Status) bool { return !p.skip(part) && (!authed || st.State != Observed) }
	var ps []pending
	var form *node // the answer to the registration form request
	if !authed {
		if p.skip(PartRegistration) {
			r.Registration.Status = skipped()
		} else {
			ps = append(ps, pending{registerQuery(), func(res iqResult) {
				r.Registration = registrationFrom(res, f)
				form = res.payload
			}})
		}
	}
	if p.skip(PartServerInfo) {
		r.ServerInfo.Status, r.Contacts.Status = skipped(), skipped()
	} else if want(PartServerInfo, r.ServerInfo.Status) {
		before := r.ServerInfo.Status
		ps = append(ps, pending{infoQuery(domain, ""), func(res iqResult) {
			r.ServerInfo = infoFrom(res, authed, before)
			r.Contacts = contactsFrom(&r.ServerInfo, res.lang)
		}})
	}
	if p.skip(PartSoftware) {
		r.Software.Status = skipped()
	} else if want(PartSoftware, r.Software.Status) {
		before := r.Software.Status
		ps = append(ps, pending{versionQuery(domain), func(res iqResult) { r.Software = softwareFrom(res, authed, before) }})
	}
	if p.skip(PartServices) {
		r.Services.Status, r.Upload.Status, r.MUC.Status, r.Proxy.Status = skipped(), skipped(), skipped(), skipped()
	} else if want(PartServices, r.Services.Status) {
		before := r.Services.Status
		ps = append(ps, pending{itemsQuery(domain), func(res iqResult) { r.Services = servicesFrom(res, authed, before) }})
	}
	if p.CheckRegistration && !authed && !p.skip(PartRegistration) {
		// The check needs the form: it is asked for alone, and the check
		// goes ahead of the other queries (ejabberd ends an
		// unauthenticated stream at the first disco query).
		ask(ctx, s, ps[:1])
		ps = append(registrationCheck(&r.Registration, form), ps[1:]...)
	}
	ask(ctx, s, ps)

	// The services' own disco#info, in a second batch.
	if r.Services.Status.State != Observed {
		return
	}
	ps = ps[:0]
	for i := range r.Services.Items {
		if i == maxServiceInfos {
			break
		}
		it := &r.Services.Items[i]
		if authed && it.Info.Status.State == Observed {
			continue
		}
		before := it.Info.Status
		ps = append(ps, pending{infoQuery(it.JID, it.Node), func(res iqResult) { it.Info = infoFrom(res, authed, before) }})
	}
	ask(ctx, s, ps)
	for i := maxServiceInfos; i < len(r.Services.Items); i++ {
		r.Services.Items[i].Info.Status = unknown("not asked: too many items", nil, 0)
	}
}

// refused turns an error answer into a status: on an unauthenticated
// stream a refusal means "needs an account"; with an account,
// service-unavailable, feature-not-implemented and item-not-found mean the
// part does not exist.
func refused(res iqResult, authed bool, what string) Status {
	var iqe *IQError
	var se *StreamError
	// ejabberd answers queries on an unauthenticated stream with a
	// not-authorized stream error; Prosody with service-unavailable.
	notAuthorized := errors.As(res.err, &se) && se.Err.Err == "not-authorized"
	if !authed && (notAuthorized || errors.As(res.err, &iqe)) {
		return unknown("needs an account", &needsAccountError{res.err}, res.took)
	}
	if iqe == nil && !errors.As(res.err, &iqe) {
		return unknown("no answer", res.err, res.took)
	}
	for _, c := range []stanza.Condition{stanza.ServiceUnavailable, stanza.FeatureNotImplemented, stanza.ItemNotFound} {
		if errors.Is(res.err, stanza.Error{Condition: c}) {
			return absent(what+" not supported", res.err, res.took)
		}
	}
	return unknown("refused", res.err, res.took)
}

// withAccountReason marks a status observed with an account, noting when
// the unauthenticated attempt was refused.
func withAccountReason(st Status, before Status) Status {
	if st.State != Observed {
		return st
	}
	st.Reason = "observed with an account"
	if errors.Is(before.Err, ErrNeedsAccount) {
		st.Reason += "; refused without one"
	}
	return st
}

func infoFrom(res iqResult, authed bool, before Status) Info {
	if res.err != nil {
		return Info{Status: refused(res, authed, "disco#info")}
	}
	if !res.payload.Is(nsDiscoInfo, "query") {
		return Info{Status: unknown("unexpected reply", fmt.Errorf("%w: disco#info: no <query/>", ErrProtocol), res.took)}
	}
	in := parseInfo(res.payload)
	in.Status = observed(res.took)
	if authed {
		in.Status = withAccountReason(in.Status, before)
	}
	return in
}

func softwareFrom(res iqResult, authed bool, before Status) Software {
	if res.err != nil {
		return Software{Status: refused(res, authed, "software version")}
	}
	if !res.payload.Is(nsVersion, "query") {
		return Software{Status: unknown("unexpected reply", fmt.Errorf("%w: version: no <query/>", ErrProtocol), res.took)}
	}
	sw := parseVersion(res.payload)
	sw.Status = observed(res.took)
	if authed {
		sw.Status = withAccountReason(sw.Status, before)
	}
	return sw
}

func servicesFrom(res iqResult, authed bool, before Status) Services {
	if res.err != nil {
		return Services{Status: refused(res, authed, "disco#items")}
	}
	if !res.payload.Is(nsDiscoItems, "query") {
		return Services{Status: unknown("unexpected reply", fmt.Errorf("%w: disco#items: no <query/>", ErrProtocol), res.took)}
	}
	sv := Services{Items: parseItems(res.payload), Status: observed(res.took)}
	if authed {
		sv.Status = withAccountReason(sv.Status, before)
	}
	return sv
}

func contactsFrom(in *Info, lang string) Contacts {
	if in.Status.State != Observed {
		return Contacts{Status: in.Status}
	}
	if in.Form(nsServerInfo) == nil {
		return Contacts{Status: absent("no XEP-0157 contact form in disco#info", nil, in.Status.Took)}
	}
	c := contactsFromInfo(in, lang)
	c.Status = in.Status
	if len(c.Abuse)+len(c.Admin)+len(c.Feedback)+len(c.Sales)+len(c.Security)+len(c.Support)+len(c.StatusPages) == 0 {
		c.Status.Reason = joinReason(c.Status.Reason, "contact form has no addresses")
	}
	return c
}

// registrationFrom classifies the answer to the registration form request.
func registrationFrom(res iqResult, f *Features) Registration {
	adv, inv := f != nil && f.Register, f != nil && f.InviteToken
	if res.err != nil {
		var iqe *IQError
		if !errors.As(res.err, &iqe) {
			return Registration{Advertised: adv, InviteToken: inv, Status: unknown("no answer", res.err, res.took)}
		}
		r := Registration{Kind: RegistrationClosed, Advertised: adv, InviteToken: inv,
			Status: absent("registration form refused", res.err, res.took)}
		if inv {
			r.Kind = RegistrationInvite
			r.Status = observed(res.took)
			r.Status.Reason, r.Status.Err = "invite tokens advertised; form request refused", res.err
		} else if adv {
			r.Status.Reason = "registration advertised but the form request was refused"
		}
		return r
	}
	if !res.payload.Is(nsRegister, "query") {
		return Registration{Advertised: adv, InviteToken: inv,
			Status: unknown("unexpected reply", fmt.Errorf("%w: register: no <query/>", ErrProtocol), res.took)}
	}
	r, err := parseRegister(res.payload)
	if err != nil {
		return Registration{Advertised: adv, InviteToken: inv,
			Status: unknown("unreadable registration form", fmt.Errorf("%w: %w", ErrProtocol, err), res.took)}
	}
	r.Advertised, r.InviteToken = adv, inv
	reason := r.Status.Reason
	r.Status = observed(res.took)
	switch {
	case r.Kind == RegistrationUnknown:
		r.Status = unknown("empty registration form", nil, res.took)
	case inv:
		r.Kind = RegistrationInvite
		reason = joinReason("invite tokens (XEP-0445) advertised: registration probably needs an invitation", reason)
	case !adv:
		// Apps take the missing stream feature to mean "no
		// registration", and ejabberd with access "none" answers the
		// form but hides the feature (and refuses submissions).
		r.Kind = RegistrationClosed
		r.Status = absent("registration not advertised (the form request was answered anyway)", nil, res.took)
	}
	r.Status.Reason = joinReason(r.Status.Reason, reason)
	return r
}

func joinReason(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "" || a == b:
		return a
	}
	return a + "; " + b
}

// deriveServices finds the upload, MUC and proxy services among the domain
// and its items.
func deriveServices(domain string, r *Report) {
	if r.Services.Status.State == Unknown && errors.Is(r.Services.Status.Err, ErrSkipped) {
		return
	}
	var up *Upload
	if ok, size := uploadFromInfo(&r.ServerInfo); ok && r.ServerInfo.Status.State == Observed {
		up = &Upload{JID: domain, MaxFileSize: size, Status: r.ServerInfo.Status}
	}
	var muc, proxy []string
	var took time.Duration
	for _, it := range r.Services.Items {
		in := &it.Info
		if in.Status.State != Observed {
			continue
		}
		took = max(took, in.Status.Took)
		if ok, size := uploadFromInfo(in); ok && up == nil {
			up = &Upload{JID: it.JID, MaxFileSize: size, Status: in.Status}
		}
		if in.HasIdentity("conference", "text") && !slices.Contains(muc, it.JID) {
			muc = append(muc, it.JID)
		}
		if in.HasIdentity("proxy", "bytestreams") && !slices.Contains(proxy, it.JID) {
			proxy = append(proxy, it.JID)
		}
	}
	none := func(what string) Status {
		if r.Services.Status.State != Observed {
			return r.Services.Status
		}
		for _, it := range r.Services.Items {
			if it.Info.Status.State != Observed {
				return unknown("no "+what+" service found, but not every service answered", it.Info.Status.Err, took)
			}
		}
		return absent(fmt.Sprintf("no %s service among %d items", what, len(r.Services.Items)), nil, took)
	}
	if up != nil {
		r.Upload = *up
	} else {
		r.Upload = Upload{Status: none("HTTP upload")}
	}
	found := observed(took)
	found.Reason = r.Services.Status.Reason
	r.MUC = ServiceList{JIDs: muc, Status: found}
	if len(muc) == 0 {
		r.MUC.Status = none("multi-user chat")
	}
	r.Proxy = ServiceList{JIDs: proxy, Status: found}
	if len(proxy) == 0 {
		r.Proxy.Status = none("bytestream proxy")
	}
}
