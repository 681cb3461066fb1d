package providers

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestFieldTable checks the one table of properties against the published
// key order and the Go types of Provider.
func TestFieldTable(t *testing.T) {
	want := []Field{
		"jid", "category", "latestChange", "website", "alternativeJids", "busFactor", "organization",
		"passwordReset", "serverTesting", "serverSoftwareName", "serverSoftwareVersion", "ratingGreenWebCheck",
		"inBandRegistration", "inBandRegistrationEmailAddressRequired", "inBandRegistrationCaptchaRequired",
		"registrationWebPage", "ratingXmppComplianceTester", "ratingImObservatoryClientToServer",
		"ratingImObservatoryServerToServer", "maximumHttpFileUploadFileSize", "maximumHttpFileUploadTotalSize",
		"maximumHttpFileUploadStorageTime", "maximumMessageArchiveManagementStorageTime", "professionalHosting",
		"freeOfCharge", "legalNotice", "serverLocations", "emailSupport", "chatSupport", "groupChatSupport", "since",
	}
	if got := Fields(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Fields() = %v", got)
	}
	file := []Field{"website", "alternativeJids", "busFactor", "organization", "passwordReset", "serverTesting",
		"maximumHttpFileUploadTotalSize", "maximumHttpFileUploadStorageTime", "maximumMessageArchiveManagementStorageTime",
		"professionalHosting", "freeOfCharge", "legalNotice", "serverLocations", "since"}
	if got := ProviderFileFields(); !reflect.DeepEqual(got, file) {
		t.Fatalf("ProviderFileFields() = %v", got)
	}
	p := Embedded().Providers[0]
	var links []Field
	for _, f := range Fields() {
		info, ok := Describe(f)
		if !ok || info.Field != f || info.Label == "" || info.Kind == 0 {
			t.Errorf("Describe(%s) = %+v, %v", f, info, ok)
		}
		if info.Link {
			links = append(links, f)
		}
		// The JSON form decodes back to the same typed value.
		raw, err := json.Marshal(p.Value(f))
		if err != nil {
			t.Fatal(err)
		}
		q := New("")
		if err := q.UnmarshalField(f, raw); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if !reflect.DeepEqual(q.Typed(f), p.Typed(f)) && !(info.Kind == KindLocalizedList || info.Kind == KindLocalized) {
			t.Errorf("%s: %#v after a round trip, was %#v", f, q.Typed(f), p.Typed(f))
		}
	}
	if !reflect.DeepEqual(links, []Field{FieldWebsite, FieldPasswordReset, FieldRegistrationWebPage, FieldLegalNotice}) {
		t.Errorf("links %v", links)
	}
	if _, ok := Describe("nope"); ok || p.Typed("nope") != nil || p.Value("nope") != nil {
		t.Error("unknown field described")
	}
	for f, v := range map[Field]any{
		FieldUploadFileSize: p.UploadFileSize, FieldArchiveStorageTime: p.ArchiveStorageTime, FieldBusFactor: p.BusFactor,
		FieldSince: p.Since, FieldCategory: p.Category, FieldOrganization: p.Organization, FieldWebsite: p.Website,
		FieldChatSupport: p.ChatSupport, FieldComplianceTester: p.ComplianceTester, FieldFreeOfCharge: p.FreeOfCharge,
	} {
		if !reflect.DeepEqual(p.Typed(f), v) {
			t.Errorf("Typed(%s) = %#v, want %#v", f, p.Typed(f), v)
		}
	}
	empty := New("")
	if v := empty.Typed(FieldServerLocations); v == nil || len(v.([]string)) != 0 {
		t.Errorf("Typed of an absent list = %#v", v)
	}
}
