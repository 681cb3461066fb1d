package providers

// Field names one property of a provider by its JSON key in API v2. Programs
// use it to say which property a rating criterion, a source or a decode error
// is about.
type Field string

// The 31 keys of an API v2 filtered list entry, in the order the lists use.
const (
	FieldJID                   Field = "jid"
	FieldCategory              Field = "category"
	FieldLatestChange          Field = "latestChange"
	FieldWebsite               Field = "website"
	FieldAlternativeJIDs       Field = "alternativeJids"
	FieldBusFactor             Field = "busFactor"
	FieldOrganization          Field = "organization"
	FieldPasswordReset         Field = "passwordReset"
	FieldServerTesting         Field = "serverTesting"
	FieldServerSoftwareName    Field = "serverSoftwareName"
	FieldServerSoftwareVersion Field = "serverSoftwareVersion"
	FieldGreenWebCheck         Field = "ratingGreenWebCheck"
	FieldInBandRegistration    Field = "inBandRegistration"
	FieldEmailRequired         Field = "inBandRegistrationEmailAddressRequired"
	FieldCaptchaRequired       Field = "inBandRegistrationCaptchaRequired"
	FieldRegistrationWebPage   Field = "registrationWebPage"
	FieldComplianceTester      Field = "ratingXmppComplianceTester"
	FieldObservatoryC2S        Field = "ratingImObservatoryClientToServer"
	FieldObservatoryS2S        Field = "ratingImObservatoryServerToServer"
	FieldUploadFileSize        Field = "maximumHttpFileUploadFileSize"
	FieldUploadTotalSize       Field = "maximumHttpFileUploadTotalSize"
	FieldUploadStorageTime     Field = "maximumHttpFileUploadStorageTime"
	FieldArchiveStorageTime    Field = "maximumMessageArchiveManagementStorageTime"
	FieldProfessionalHosting   Field = "professionalHosting"
	FieldFreeOfCharge          Field = "freeOfCharge"
	FieldLegalNotice           Field = "legalNotice"
	FieldServerLocations       Field = "serverLocations"
	FieldEmailSupport          Field = "emailSupport"
	FieldChatSupport           Field = "chatSupport"
	FieldGroupChatSupport      Field = "groupChatSupport"
	FieldSince                 Field = "since"
)

// Fields returns the 31 keys of a filtered-list entry in published order.
func Fields() []Field {
	return []Field{
		FieldJID, FieldCategory, FieldLatestChange, FieldWebsite, FieldAlternativeJIDs,
		FieldBusFactor, FieldOrganization, FieldPasswordReset, FieldServerTesting,
		FieldServerSoftwareName, FieldServerSoftwareVersion, FieldGreenWebCheck,
		FieldInBandRegistration, FieldEmailRequired, FieldCaptchaRequired,
		FieldRegistrationWebPage, FieldComplianceTester, FieldObservatoryC2S,
		FieldObservatoryS2S, FieldUploadFileSize, FieldUploadTotalSize,
		FieldUploadStorageTime, FieldArchiveStorageTime, FieldProfessionalHosting,
		FieldFreeOfCharge, FieldLegalNotice, FieldServerLocations, FieldEmailSupport,
		FieldChatSupport, FieldGroupChatSupport, FieldSince,
	}
}

// ProviderFileFields returns the 14 keys an operator publishes in
// /.well-known/xmpp-provider-v2.json, in the generator's order.
func ProviderFileFields() []Field {
	return []Field{
		FieldWebsite, FieldAlternativeJIDs, FieldBusFactor, FieldOrganization,
		FieldPasswordReset, FieldServerTesting, FieldUploadTotalSize,
		FieldUploadStorageTime, FieldArchiveStorageTime, FieldProfessionalHosting,
		FieldFreeOfCharge, FieldLegalNotice, FieldServerLocations, FieldSince,
	}
}
