package discovery

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/xmpp-onboard/onboard/providers"
)

// Provider maps the report onto an XMPP Providers record, so that a rating
// can run on live data. It returns the record and the fields the report
// filled, in the published order; the other fields keep their zero value,
// or -1 (unknown) for sizes, times and the bus factor.
//
// Filled from the XMPP side, when observed:
//   - jid: the domain (always);
//   - maximumHttpFileUploadFileSize: the XEP-0363 max-file-size in MB
//     (providers.MegabytesFromBytes); not filled when the service
//     announces no limit, since that is not proof of "unlimited";
//   - emailSupport, chatSupport, groupChatSupport: the XEP-0157
//     support-addresses (mailto: URIs, xmpp: URIs, and xmpp: URIs with
//     ?join), under the language of the disco#info reply or "en";
//   - inBandRegistration, inBandRegistrationCaptchaRequired,
//     inBandRegistrationEmailAddressRequired, registrationWebPage: from the
//     registration form, when it was fetched or refused;
//     inBandRegistration is true only for RegistrationOpen;
//   - serverSoftwareName and serverSoftwareVersion: XEP-0092.
//
// Every value of the provider file that decoded without error is copied
// as well.
func (r *Report) Provider() (providers.Provider, []providers.Field) {
	p := providers.Provider{
		JID:                r.Domain,
		BusFactor:          providers.Unknown,
		UploadFileSize:     providers.Unknown,
		UploadTotalSize:    providers.Unknown,
		UploadStorageTime:  providers.Unknown,
		ArchiveStorageTime: providers.Unknown,
	}
	fields := []providers.Field{providers.FieldJID}

	if r.ProviderFile.Status.State == Observed {
		for _, f := range r.ProviderFile.Fields {
			// Copy through the JSON form so that every field is handled
			// the same way, with the checks of UnmarshalField.
			b, err := json.Marshal(r.ProviderFile.Provider.Value(f))
			if err == nil && p.UnmarshalField(f, b) == nil {
				fields = append(fields, f)
			}
		}
	}

	if r.Upload.Status.State == Observed && r.Upload.MaxFileSize > 0 {
		p.UploadFileSize = providers.MegabytesFromBytes(r.Upload.MaxFileSize)
		fields = append(fields, providers.FieldUploadFileSize)
	}

	if r.Contacts.Status.State == Observed {
		lang := strings.ToLower(r.Contacts.Lang)
		if lang == "" {
			lang = "en"
		}
		email, chat, group := supportAddresses(r.Contacts.Support)
		p.EmailSupport = localizedList(lang, email)
		p.ChatSupport = localizedList(lang, chat)
		p.GroupChatSupport = localizedList(lang, group)
		fields = append(fields, providers.FieldEmailSupport, providers.FieldChatSupport, providers.FieldGroupChatSupport)
	}

	if st := r.Registration.Status.State; st == Observed || st == Absent {
		p.InBandRegistration = r.Registration.Kind == RegistrationOpen
		p.CaptchaRequired = r.Registration.CAPTCHA
		p.EmailRequired = r.Registration.EmailRequired
		p.RegistrationWebPage = providers.Localized{}
		if r.Registration.URL != "" {
			p.RegistrationWebPage["en"] = r.Registration.URL
		}
		fields = append(fields, providers.FieldInBandRegistration, providers.FieldCaptchaRequired,
			providers.FieldEmailRequired, providers.FieldRegistrationWebPage)
	}

	if r.Software.Status.State == Observed {
		p.ServerSoftwareName = r.Software.Name
		p.ServerSoftwareVersion = r.Software.Version
		fields = append(fields, providers.FieldServerSoftwareName, providers.FieldServerSoftwareVersion)
	}

	order := providers.Fields()
	slices.SortFunc(fields, func(a, b providers.Field) int { return slices.Index(order, a) - slices.Index(order, b) })
	return p, slices.Compact(fields)
}

func localizedList(lang string, v []string) providers.LocalizedList {
	if len(v) == 0 {
		return providers.LocalizedList{}
	}
	return providers.LocalizedList{lang: v}
}

// supportAddresses sorts XEP-0157 URIs into e-mail addresses, chat JIDs and
// group chat JIDs (xmpp: URIs with the join action).
func supportAddresses(uris []string) (email, chat, group []string) {
	for _, u := range uris {
		scheme, rest, ok := strings.Cut(strings.TrimSpace(u), ":")
		if !ok {
			continue
		}
		rest, query, _ := strings.Cut(rest, "?")
		if a, ok := strings.CutPrefix(rest, "//"); ok {
			// xmpp://authority/jid: the JID follows the authority.
			_, rest, _ = strings.Cut(a, "/")
		}
		if v, err := url.PathUnescape(rest); err == nil {
			rest = v
		}
		if rest == "" {
			continue
		}
		switch strings.ToLower(scheme) {
		case "mailto":
			email = appendNew(email, rest)
		case "xmpp":
			if action, _, _ := strings.Cut(query, ";"); action == "join" {
				group = appendNew(group, rest)
			} else {
				chat = appendNew(chat, rest)
			}
		}
	}
	return email, chat, group
}

func appendNew(list []string, v string) []string {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}
