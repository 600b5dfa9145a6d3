package usercenter

import "strings"

// Field names a piece of input or state the domain has rules about. Domain
// errors carry one; each facade spells it in its own wire vocabulary
// through exactly one table, so no facade ever sees another's spelling.
//
// The values are the names audit events record for changed and disclosed
// fields ("nickname", "phone", "thirdPartyIds.qq"), which is why they are
// strings and why they never change once released.
type Field string

// The fields of a user.
const (
	FieldUserID      Field = "userId"
	FieldSdkAppID    Field = "sdkAppId"
	FieldOriginID    Field = "originId"
	FieldExternalID  Field = "externalId"
	FieldStatus      Field = "status"
	FieldNickname    Field = "nickname"
	FieldFullName    Field = "fullName"
	FieldAvatar      Field = "avatar"
	FieldPhone       Field = "phone"
	FieldEmail       Field = "email"
	FieldAddress     Field = "address"
	FieldCity        Field = "city"
	FieldProvince    Field = "province"
	FieldNationality Field = "nationality"
	FieldLang        Field = "lang"
	FieldTimezone    Field = "timezone"
	FieldSex         Field = "sex"
	FieldSignature   Field = "signature"
	FieldRemark      Field = "remark"
	FieldLogonMode   Field = "logonMode"
	// FieldThirdParty is the map of third-party IDs as a whole; one
	// provider's ID is ThirdPartyField(p).
	FieldThirdParty Field = "thirdPartyIds"
)

// The fields of an app and of an API key.
const (
	FieldAppName           Field = "appName"
	FieldAppStatus         Field = "appStatus"
	FieldUserDomain        Field = "userDomain"
	FieldRateLimit         Field = "rateLimit"
	FieldTokenTTL          Field = "tokenTtl"
	FieldPhoneRegion       Field = "phoneRegion"
	FieldSuperAppSecretKey Field = "superAppSecretKey"
	FieldSuperAppCipher    Field = "superAppCipher"
	FieldCodeTTL           Field = "codeTtl"
	FieldKeyName           Field = "keyName"
	FieldKeyApps           Field = "keyApps"
	FieldPermissions       Field = "permissions"
	FieldSecretID          Field = "secretId"
)

// The parameters of the use cases that are not stored fields.
const (
	// FieldUsers is the list of users of a batch (a registration or an
	// import); an error about one of them names its own field and Item.
	FieldUsers Field = "users"
	// FieldPage is an offset-paged listing's page number, from 1.
	FieldPage Field = "page"
	// FieldPageSize is how many items a page holds.
	FieldPageSize Field = "pageSize"
	// FieldCursor is a keyset listing's opaque position.
	FieldCursor Field = "cursor"
	// FieldCreatedSince and FieldCreatedUntil bound a listing by creation
	// time; FieldSince and FieldUntil bound the audit trail by event time.
	FieldCreatedSince Field = "createdSince"
	FieldCreatedUntil Field = "createdUntil"
	FieldSince        Field = "since"
	FieldUntil        Field = "until"
	// FieldProvider and FieldProviderUserID find a user by a third-party ID.
	FieldProvider       Field = "provider"
	FieldProviderUserID Field = "providerUserId"
	// FieldUsername, FieldPassword and FieldTimestamp are the parts of an
	// enterprise AccessKey login.
	FieldUsername  Field = "username"
	FieldPassword  Field = "password"
	FieldTimestamp Field = "timestamp"
	// FieldCode is a super-app temporary code; FieldValueKind says which
	// value (phone or email) a code is asked for.
	FieldCode      Field = "code"
	FieldValueKind Field = "valueKind"
	// FieldAuditAction filters the audit trail by action.
	FieldAuditAction Field = "auditAction"
	// FieldToken is a login or access token (only its hash is stored).
	FieldToken Field = "token"
	// FieldRole is a console account's role (admin, support, viewer).
	FieldRole Field = "role"
	// FieldReason is an operator's written reason for a disclosure.
	FieldReason Field = "reason"
	// A webhook endpoint's ID, URL and event filters.
	FieldWebhookID     Field = "webhookId"
	FieldWebhookURL    Field = "webhookUrl"
	FieldWebhookEvents Field = "webhookEvents"
)

// Fields lists every field above, for the facades' table tests.
var Fields = []Field{
	FieldUserID, FieldSdkAppID, FieldOriginID, FieldStatus, FieldNickname, FieldAvatar,
	FieldPhone, FieldEmail, FieldAddress, FieldCity, FieldProvince, FieldNationality,
	FieldLang, FieldTimezone, FieldSex, FieldSignature, FieldRemark, FieldLogonMode, FieldThirdParty,
	FieldAppName, FieldAppStatus, FieldUserDomain, FieldRateLimit, FieldTokenTTL, FieldPhoneRegion,
	FieldSuperAppSecretKey, FieldSuperAppCipher, FieldCodeTTL, FieldKeyName, FieldKeyApps,
	FieldPermissions, FieldSecretID,
	FieldUsers, FieldPage, FieldPageSize, FieldCursor, FieldCreatedSince, FieldCreatedUntil,
	FieldSince, FieldUntil, FieldProvider, FieldProviderUserID, FieldUsername, FieldPassword,
	FieldTimestamp, FieldCode, FieldValueKind, FieldAuditAction, FieldToken,
	FieldRole, FieldReason,
	FieldWebhookID, FieldWebhookURL, FieldWebhookEvents,
	FieldExternalID, FieldFullName,
}

// ThirdPartyField names one provider's ID in a user's third-party IDs.
func ThirdPartyField(p Provider) Field { return FieldThirdParty + "." + Field(p) }

// Split returns a field without its provider, and the provider:
// ThirdPartyField(p) splits into FieldThirdParty and p, any other field
// into itself and "".
func (f Field) Split() (Field, Provider) {
	base, prov, ok := strings.Cut(string(f), ".")
	if !ok {
		return f, ""
	}
	return Field(base), Provider(prov)
}

// Spelling is one facade's table of field names: its wire name of every
// Field. Spell turns a field, with its provider, into that facade's
// spelling.
type Spelling map[Field]string

// Spell returns the facade's name of f, with a provider's ID as
// "<name of FieldThirdParty>.<provider>", and false for a field the table
// does not know: a facade never passes an unknown name through.
func (s Spelling) Spell(f Field) (string, bool) {
	base, prov := f.Split()
	name, ok := s[base]
	if !ok {
		return "", false
	}
	if prov != "" {
		if base != FieldThirdParty {
			return "", false
		}
		return name + "." + string(prov), true
	}
	return name, true
}
