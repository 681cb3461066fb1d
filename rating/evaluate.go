package rating

import (
	"fmt"
	"strings"
	"time"

	"github.com/xmpp-onboard/onboard/providers"
)

// Rule says how a criterion's threshold applies to a provider's value.
type Rule string

// The rules a Criterion can use.
const (
	// RuleTrue: the boolean property must be true. Threshold is true.
	RuleTrue Rule = "true"
	// RuleFalse: the boolean property must be false. Threshold is false.
	RuleFalse Rule = "false"
	// RuleNonEmpty: the property (a per-language map or a list) must have
	// at least one entry. Threshold is nil.
	RuleNonEmpty Rule = "nonEmpty"
	// RuleAtLeast: the number must be at least Threshold. For sizes and
	// times (a providers.Megabytes or providers.Days Threshold) the value 0,
	// "no limit", always meets it and -1, "unknown or less than one unit",
	// never does.
	RuleAtLeast Rule = "atLeast"
	// RuleMinAge: the "since" date must lie at least Threshold days (a
	// providers.Days) before the rating date. An unknown date fails.
	RuleMinAge Rule = "minAge"
	// RuleEqual: the string must equal Threshold.
	RuleEqual Rule = "equal"
	// RuleAnyOf: Field or one of Alternatives must be set: a boolean true,
	// a map or list non-empty. Threshold is nil.
	RuleAnyOf Rule = "anyOf"
)

// Criterion is one requirement of a category, as data: the property it is
// about, the rule and the threshold.
type Criterion struct {
	// Field is the property the criterion is about.
	Field providers.Field `json:"field"`
	// Alternatives are further properties that meet a RuleAnyOf criterion
	// as well as Field does.
	Alternatives []providers.Field `json:"alternatives,omitempty"`
	// Rule says how Threshold applies.
	Rule Rule `json:"rule"`
	// Threshold is a bool (RuleTrue, RuleFalse), a providers.Megabytes or
	// providers.Days (sizes, times and RuleMinAge), an int (percent of the
	// Compliance Tester), a providers.BusFactor, a string (RuleEqual) or
	// nil (RuleNonEmpty, RuleAnyOf).
	Threshold any `json:"threshold"`
}

// Fields returns Field followed by the Alternatives.
func (c Criterion) Fields() []providers.Field {
	return append([]providers.Field{c.Field}, c.Alternatives...)
}

// String describes the criterion for people, as in "file upload limit per
// file: at least 20 MB or no limit".
func (c Criterion) String() string {
	switch c.Rule {
	case RuleTrue:
		return label(c.Field) + ": required"
	case RuleFalse:
		return label(c.Field) + ": must not be required"
	case RuleNonEmpty:
		return label(c.Field) + ": required"
	case RuleAnyOf:
		names := make([]string, 0, len(c.Alternatives)+1)
		for _, f := range c.Fields() {
			names = append(names, label(f))
		}
		return "one of " + strings.Join(names, ", ") + ": required"
	case RuleMinAge:
		return fmt.Sprintf("%s: at least %v", label(c.Field), c.Threshold)
	case RuleEqual:
		return fmt.Sprintf("%s: %q", label(c.Field), c.Threshold)
	case RuleAtLeast:
		switch t := c.Threshold.(type) {
		case providers.Megabytes, providers.Days:
			return fmt.Sprintf("%s: at least %v or no limit", label(c.Field), t)
		case int:
			if c.Field == providers.FieldComplianceTester {
				return fmt.Sprintf("%s: at least %d %%", label(c.Field), t)
			}
		}
		return fmt.Sprintf("%s: at least %v", label(c.Field), c.Threshold)
	}
	return fmt.Sprintf("%s: %s %v", c.Field, c.Rule, c.Threshold)
}

// Shortfall is a criterion that a provider does not meet, with the
// provider's value and an explanation.
type Shortfall struct {
	Criterion
	// Value is the provider's value, typed like the Provider field
	// (providers.Megabytes, providers.Days, providers.Date, bool,
	// providers.Localized, …). For RuleAnyOf it is a
	// map[providers.Field]any with the value of every field named.
	Value any `json:"value"`
	// Reason says in words what is wrong, as in "file upload limit per file
	// is 10 MB; needs at least 20 MB or no limit".
	Reason string `json:"reason"`
	// Fix says what the operator could change to meet the criterion.
	Fix string `json:"fix"`
}

// String returns the Reason.
func (s Shortfall) String() string { return s.Reason }

// Verdict is the outcome for one category.
type Verdict struct {
	// Category is A, B or C.
	Category providers.Category `json:"category"`
	// Met reports whether every criterion of the category is met.
	Met bool `json:"met"`
	// Unmet lists the criteria that are not met, in the policy's order.
	Unmet []Shortfall `json:"unmet"`
}

// Result is the rating of one provider.
type Result struct {
	// JID is the provider's domain.
	JID string `json:"jid"`
	// Date is the date the rating applies to (the calendar date of the
	// time given to Evaluate, in that time's location).
	Date providers.Date `json:"date"`
	// Category is the computed category: the best one whose criteria are
	// all met, else D.
	Category providers.Category `json:"category"`
	// Published is the category the record carried, if any (a filtered
	// list has one; a live probe or a provider file has none).
	Published providers.Category `json:"published,omitempty"`
	// Verdicts holds the outcome for A, B and C, in that order.
	Verdicts []Verdict `json:"verdicts"`
}

// Unmet returns the criteria of category c that the provider does not
// meet. It is empty when c is met, and for D and invalid categories.
func (r Result) Unmet(c providers.Category) []Shortfall {
	for _, v := range r.Verdicts {
		if v.Category == c {
			return v.Unmet
		}
	}
	return nil
}

// Next returns the next better category than the computed one and what the
// provider lacks to reach it. For a provider in A it returns "" and nil.
func (r Result) Next() (providers.Category, []Shortfall) {
	var next providers.Category
	for _, v := range r.Verdicts {
		if v.Category.Better(r.Category) {
			next = v.Category
		}
	}
	if next == "" {
		return "", nil
	}
	return next, r.Unmet(next)
}

// Agrees reports whether the computed category equals the published one.
// It reports true when no category was published.
func (r Result) Agrees() bool { return r.Published == "" || r.Published == r.Category }

// Evaluate rates p on the date of at with [DefaultPolicy]. It is a pure
// function: it does not use the network or the clock.
func Evaluate(p providers.Provider, at time.Time) Result {
	return DefaultPolicy().Evaluate(p, at)
}

// Evaluate rates p on the calendar date of at (in at's location) with the
// policy. The category is the best of A, B and C whose criteria p meets in
// full, else D; the Result lists, for each of A, B and C, every criterion p
// does not meet. Evaluate does not use the network or the clock: pass
// time.Now() to rate as of today, or a list's publication date to
// reproduce its categories.
func (pol Policy) Evaluate(p providers.Provider, at time.Time) Result {
	on := providers.DateOf(at)
	res := Result{
		JID:       p.JID,
		Date:      on,
		Category:  providers.CategoryD,
		Published: p.Category,
		Verdicts:  make([]Verdict, 0, 3),
	}
	for _, c := range rated() {
		req, _ := pol.Requirements(c)
		v := Verdict{Category: c, Unmet: req.unmet(&p, on)}
		v.Met = len(v.Unmet) == 0
		if v.Unmet == nil {
			v.Unmet = []Shortfall{} // "unmet": [] in JSON
		}
		if v.Met && res.Category == providers.CategoryD {
			res.Category = c
		}
		res.Verdicts = append(res.Verdicts, v)
	}
	return res
}

// Unmet returns the criteria of req that p does not meet on the calendar
// date of at; it is empty when p meets them all.
func (req Requirements) Unmet(p providers.Provider, at time.Time) []Shortfall {
	return req.unmet(&p, providers.DateOf(at))
}

// Criteria lists the criteria of req as data, in the order Unmet reports
// them. The zero Requirements have none.
func (req Requirements) Criteria() []Criterion {
	var out []Criterion
	req.walk(nil, providers.Date{}, func(k criterion, _ bool) { out = append(out, req.criterion(k)) })
	return out
}

func (req Requirements) unmet(p *providers.Provider, on providers.Date) []Shortfall {
	var out []Shortfall
	req.walk(p, on, func(k criterion, met bool) {
		if !met {
			out = append(out, shortfall(req.criterion(k), p, on))
		}
	})
	return out
}

// criterion names one criterion of Requirements.
type criterion int

const (
	critInBand criterion = iota
	critRegistration
	critFree
	critCompliance
	critFileSize
	critTotalSize
	critUploadTime
	critArchiveTime
	critHosting
	critLegalNotice
	critLocations
	critSupport
	critAge
	critObservatoryC2S
	critObservatoryS2S
	critNoCaptcha
	critNoEmail
	critBusFactor
)

// walk calls visit for every criterion of req, in a fixed order, with
// whether p meets it on the date. With a nil p it only lists them.
func (req Requirements) walk(p *providers.Provider, on providers.Date, visit func(criterion, bool)) {
	if p == nil {
		p = &providers.Provider{}
	}
	switch req.Registration {
	case RegistrationInBand:
		visit(critInBand, p.InBandRegistration)
	case RegistrationPossible:
		visit(critRegistration, p.CanRegister())
	}
	if req.FreeOfCharge {
		visit(critFree, p.FreeOfCharge)
	}
	if req.MinComplianceTester > 0 {
		visit(critCompliance, p.ComplianceTester >= req.MinComplianceTester)
	}
	if req.MinUploadFileSize > 0 {
		visit(critFileSize, p.UploadFileSize.AtLeast(req.MinUploadFileSize))
	}
	if req.MinUploadTotalSize > 0 {
		visit(critTotalSize, p.UploadTotalSize.AtLeast(req.MinUploadTotalSize))
	}
	if req.MinUploadStorageTime > 0 {
		visit(critUploadTime, p.UploadStorageTime.AtLeast(req.MinUploadStorageTime))
	}
	if req.MinArchiveStorageTime > 0 {
		visit(critArchiveTime, p.ArchiveStorageTime.AtLeast(req.MinArchiveStorageTime))
	}
	if req.ProfessionalHosting {
		visit(critHosting, p.ProfessionalHosting)
	}
	if req.LegalNotice {
		visit(critLegalNotice, len(p.LegalNotice) > 0)
	}
	if req.ServerLocations {
		visit(critLocations, len(p.ServerLocations) > 0)
	}
	if req.Support {
		visit(critSupport, len(p.EmailSupport) > 0 || len(p.ChatSupport) > 0 || len(p.GroupChatSupport) > 0)
	}
	if req.MinAge > 0 {
		visit(critAge, !p.Since.IsZero() && p.Since.DaysUntil(on) >= int(req.MinAge))
	}
	if req.ObservatoryGrade != "" {
		visit(critObservatoryC2S, p.ObservatoryC2S == req.ObservatoryGrade)
		visit(critObservatoryS2S, p.ObservatoryS2S == req.ObservatoryGrade)
	}
	if req.NoCaptcha {
		visit(critNoCaptcha, !p.CaptchaRequired)
	}
	if req.NoEmail {
		visit(critNoEmail, !p.EmailRequired)
	}
	if req.MinBusFactor > 0 {
		visit(critBusFactor, p.BusFactor.Known() && p.BusFactor >= req.MinBusFactor)
	}
}

// criterion returns criterion k of req as data.
func (req Requirements) criterion(k criterion) Criterion {
	switch k {
	case critInBand:
		return Criterion{Field: providers.FieldInBandRegistration, Rule: RuleTrue, Threshold: true}
	case critRegistration:
		return Criterion{Field: providers.FieldInBandRegistration,
			Alternatives: []providers.Field{providers.FieldRegistrationWebPage}, Rule: RuleAnyOf}
	case critFree:
		return Criterion{Field: providers.FieldFreeOfCharge, Rule: RuleTrue, Threshold: true}
	case critCompliance:
		return Criterion{Field: providers.FieldComplianceTester, Rule: RuleAtLeast, Threshold: req.MinComplianceTester}
	case critFileSize:
		return Criterion{Field: providers.FieldUploadFileSize, Rule: RuleAtLeast, Threshold: req.MinUploadFileSize}
	case critTotalSize:
		return Criterion{Field: providers.FieldUploadTotalSize, Rule: RuleAtLeast, Threshold: req.MinUploadTotalSize}
	case critUploadTime:
		return Criterion{Field: providers.FieldUploadStorageTime, Rule: RuleAtLeast, Threshold: req.MinUploadStorageTime}
	case critArchiveTime:
		return Criterion{Field: providers.FieldArchiveStorageTime, Rule: RuleAtLeast, Threshold: req.MinArchiveStorageTime}
	case critHosting:
		return Criterion{Field: providers.FieldProfessionalHosting, Rule: RuleTrue, Threshold: true}
	case critLegalNotice:
		return Criterion{Field: providers.FieldLegalNotice, Rule: RuleNonEmpty}
	case critLocations:
		return Criterion{Field: providers.FieldServerLocations, Rule: RuleNonEmpty}
	case critSupport:
		return Criterion{Field: providers.FieldEmailSupport,
			Alternatives: []providers.Field{providers.FieldChatSupport, providers.FieldGroupChatSupport}, Rule: RuleAnyOf}
	case critAge:
		return Criterion{Field: providers.FieldSince, Rule: RuleMinAge, Threshold: req.MinAge}
	case critObservatoryC2S:
		return Criterion{Field: providers.FieldObservatoryC2S, Rule: RuleEqual, Threshold: req.ObservatoryGrade}
	case critObservatoryS2S:
		return Criterion{Field: providers.FieldObservatoryS2S, Rule: RuleEqual, Threshold: req.ObservatoryGrade}
	case critNoCaptcha:
		return Criterion{Field: providers.FieldCaptchaRequired, Rule: RuleFalse, Threshold: false}
	case critNoEmail:
		return Criterion{Field: providers.FieldEmailRequired, Rule: RuleFalse, Threshold: false}
	case critBusFactor:
		return Criterion{Field: providers.FieldBusFactor, Rule: RuleAtLeast, Threshold: req.MinBusFactor}
	}
	panic("rating: unknown criterion")
}

func shortfall(c Criterion, p *providers.Provider, on providers.Date) Shortfall {
	s := Shortfall{Criterion: c}
	if c.Rule == RuleAnyOf {
		m := make(map[providers.Field]any, len(c.Alternatives)+1)
		for _, f := range c.Fields() {
			m[f] = p.Typed(f)
		}
		s.Value = m
	} else {
		s.Value = p.Typed(c.Field)
	}
	s.Reason, s.Fix = explain(c, p, on)
	return s
}

// label names a field for people, as providers.Describe does; the age
// criterion calls "since" the time in service.
func label(f providers.Field) string {
	if f == providers.FieldSince {
		return "time in service"
	}
	if info, ok := providers.Describe(f); ok {
		return info.Label
	}
	return string(f)
}

// explain words a criterion p does not meet: what is wrong and what to do.
func explain(c Criterion, p *providers.Provider, on providers.Date) (reason, fix string) {
	switch c.Field {
	case providers.FieldInBandRegistration:
		if c.Rule == RuleAnyOf {
			return "accounts cannot be created: neither in-band registration (XEP-0077) nor a registration web page is known",
				"allow in-band registration (XEP-0077) or announce a registration web page (XEP-0077 redirect)"
		}
		return "apps cannot create accounts: in-band registration (XEP-0077) is not offered or not verified",
			"allow in-band registration (XEP-0077) so that apps can sign newcomers up"
	case providers.FieldFreeOfCharge:
		return "the service is not free of charge, or it is not known", "offer the service free of charge (set freeOfCharge in the provider file)"
	case providers.FieldComplianceTester:
		t, _ := c.Threshold.(int)
		score := fmt.Sprintf("%d %%", p.ComplianceTester)
		if p.ComplianceTester == 0 {
			score = "0 % or unknown"
		}
		return fmt.Sprintf("XMPP Compliance Tester score is %s; needs at least %d %%", score, t),
			fmt.Sprintf("make the server pass at least %d %% of the XMPP Compliance Tester (compliance.conversations.im) and give the project a test account", t)
	case providers.FieldUploadFileSize, providers.FieldUploadTotalSize:
		t, _ := c.Threshold.(providers.Megabytes)
		v, _ := p.Typed(c.Field).(providers.Megabytes)
		reason = fmt.Sprintf("%s is %s; needs at least %v or no limit", label(c.Field), sizeWords(v), t)
		switch {
		case v.Known():
			fix = fmt.Sprintf("raise the %s to at least %v, or remove it", label(c.Field), t)
		case c.Field == providers.FieldUploadFileSize:
			fix = fmt.Sprintf("announce a max-file-size of at least %v in the HTTP File Upload service (XEP-0363)", t)
		default:
			fix = fmt.Sprintf("allow at least %v per user and publish it as %s in the provider file", t, c.Field)
		}
		return reason, fix
	case providers.FieldUploadStorageTime, providers.FieldArchiveStorageTime:
		t, _ := c.Threshold.(providers.Days)
		v, _ := p.Typed(c.Field).(providers.Days)
		what := "uploaded files"
		if c.Field == providers.FieldArchiveStorageTime {
			what = "the message archive"
		}
		return fmt.Sprintf("the %s is %s; needs at least %v or no limit", label(c.Field), daysWords(v), t),
			fmt.Sprintf("keep %s at least %v (or without limit) and publish it as %s in the provider file", what, t, c.Field)
	case providers.FieldProfessionalHosting:
		return "the server is not hosted professionally, or it is not known",
			"host the server in a data centre (fast connection, uninterruptible power, access control, backups) and set professionalHosting in the provider file"
	case providers.FieldLegalNotice:
		return "no legal notice is known", "publish a legal notice and list it as legalNotice in the provider file"
	case providers.FieldServerLocations:
		return "the server locations are unknown", "list the countries of the servers as serverLocations in the provider file"
	case providers.FieldEmailSupport:
		return "no support address (e-mail, chat or group chat) is known",
			"announce a support address as server contact addresses (XEP-0157)"
	case providers.FieldSince:
		t, _ := c.Threshold.(providers.Days)
		switch {
		case p.Since.IsZero():
			return "the date the service started is unknown",
				"publish since (the date the service started) in the provider file"
		case on.Before(p.Since):
			return fmt.Sprintf("the service starts on %v, after %v", p.Since, on),
				fmt.Sprintf("check since in the provider file; if it is right, wait until %v", addDays(p.Since, int(t)))
		}
		return fmt.Sprintf("the service has been available since %v, %d days before %v; needs at least %v",
				p.Since, p.Since.DaysUntil(on), on, t),
			fmt.Sprintf("wait: the criterion is met from %v", addDays(p.Since, int(t)))
	case providers.FieldObservatoryC2S, providers.FieldObservatoryS2S:
		v, _ := p.Typed(c.Field).(string)
		if v == "" {
			v = "unknown"
		}
		return fmt.Sprintf("%s is %s; needs %v", label(c.Field), v, c.Threshold),
			"the IM Observatory no longer rates servers; relax this criterion"
	case providers.FieldCaptchaRequired:
		return "registration needs a CAPTCHA", "allow registration without a CAPTCHA"
	case providers.FieldEmailRequired:
		return "registration needs an e-mail address", "allow registration without an e-mail address"
	case providers.FieldBusFactor:
		return fmt.Sprintf("bus factor is %v; needs at least %v", p.BusFactor, c.Threshold),
			fmt.Sprintf("have at least %v people able to run the service and publish busFactor in the provider file", c.Threshold)
	}
	return fmt.Sprintf("%s is %v; needs %s", label(c.Field), p.Typed(c.Field), c), "change " + string(c.Field)
}

func sizeWords(m providers.Megabytes) string {
	if !m.Known() {
		return "unknown (or less than 1 MB)"
	}
	return m.String()
}

func daysWords(d providers.Days) string {
	if !d.Known() {
		return "unknown (or less than 1 day)"
	}
	return d.String()
}

func addDays(d providers.Date, n int) providers.Date {
	return providers.DateOf(d.Time().AddDate(0, 0, n))
}
