package scim

import (
	"fmt"
	"net/http"
	"strconv"

	"usercenter"
	"usercenter/httpio"
	"usercenter/obs"
)

// SCIM error types (RFC 7644 §3.12) this facade answers with.
const (
	typeInvalidFilter = "invalidFilter"
	typeTooMany       = "tooMany"
	typeUniqueness    = "uniqueness"
	typeInvalidSyntax = "invalidSyntax"
	typeInvalidValue  = "invalidValue"
	typeMutability    = "mutability"
	typeNoTarget      = "noTarget"
	typeInvalidPath   = "invalidPath"
)

// scimError is an error as SCIM reports it: an HTTP status, a scimType
// where RFC 7644 has one for the case, and a detail safe to show.
type scimError struct {
	Status   int
	Type     string
	Detail   string
	cause    error // internal and unavailability errors only, for the log
	internal bool
}

func (e *scimError) Error() string { return strconv.Itoa(e.Status) + " " + e.Type + ": " + e.Detail }

func badRequest(scimType, format string, args ...any) *scimError {
	return &scimError{Status: http.StatusBadRequest, Type: scimType, Detail: fmt.Sprintf(format, args...)}
}

// errorBody is RFC 7644's error response; status is a string there.
type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

const schemaError = "urn:ietf:params:scim:api:messages:2.0:Error"

// fields spells every domain field as this API's attributes do: the core
// User schema's names, and the usercenter extension's, under its URN, for
// the profile fields the core schema lacks.
var fields = usercenter.Spelling{
	usercenter.FieldUserID: "id", usercenter.FieldSdkAppID: "sdkAppId", usercenter.FieldOriginID: "userName", usercenter.FieldExternalID: "externalId", usercenter.FieldFullName: "name.formatted",
	usercenter.FieldStatus: "active", usercenter.FieldNickname: "displayName", usercenter.FieldAvatar: "photos",
	usercenter.FieldPhone: "phoneNumbers", usercenter.FieldEmail: "emails", usercenter.FieldAddress: "addresses",
	usercenter.FieldCity: extensionAttr("city"), usercenter.FieldProvince: extensionAttr("province"),
	usercenter.FieldNationality: extensionAttr("nationality"), usercenter.FieldLang: "preferredLanguage",
	usercenter.FieldTimezone: "timezone", usercenter.FieldSex: extensionAttr("sex"),
	usercenter.FieldSignature: extensionAttr("signature"), usercenter.FieldRemark: extensionAttr("remark"),
	usercenter.FieldLogonMode: extensionAttr("logonMode"), usercenter.FieldThirdParty: extensionAttr("thirdPartyIds"),
	usercenter.FieldAppName: "appName", usercenter.FieldAppStatus: "appStatus", usercenter.FieldUserDomain: "userDomain",
	usercenter.FieldRateLimit: "rateLimit", usercenter.FieldTokenTTL: "tokenTtl", usercenter.FieldPhoneRegion: "phoneRegion",
	usercenter.FieldSuperAppSecretKey: "superAppSecretKey", usercenter.FieldSuperAppCipher: "superAppCipher",
	usercenter.FieldCodeTTL: "codeTtl", usercenter.FieldKeyName: "keyName", usercenter.FieldKeyApps: "keyApps",
	usercenter.FieldPermissions: "permissions", usercenter.FieldSecretID: "secretId",
	usercenter.FieldUsers: "Resources", usercenter.FieldPage: "startIndex", usercenter.FieldPageSize: "count",
	usercenter.FieldCursor: "cursor", usercenter.FieldCreatedSince: "createdSince", usercenter.FieldCreatedUntil: "createdUntil",
	usercenter.FieldSince: "since", usercenter.FieldUntil: "until", usercenter.FieldProvider: "provider",
	usercenter.FieldProviderUserID: "providerUserId", usercenter.FieldUsername: "username", usercenter.FieldPassword: "password",
	usercenter.FieldTimestamp: "timestamp", usercenter.FieldCode: "code", usercenter.FieldValueKind: "valueKind",
	usercenter.FieldToken: "token", usercenter.FieldAuditAction: "action", usercenter.FieldRole: "role", usercenter.FieldReason: "reason",
	usercenter.FieldWebhookID: "webhookId", usercenter.FieldWebhookURL: "webhookUrl", usercenter.FieldWebhookEvents: "webhookEvents",
}

// fromDomain maps an error from core to SCIM's status and scimType. It is
// the one place where usercenter.Error codes meet SCIM's.
func fromDomain(err error) *scimError {
	if e, ok := err.(*scimError); ok {
		return e
	}
	e := usercenter.ErrorOf(err)
	switch e.Code {
	case usercenter.EInvalid:
		if e.Field == usercenter.FieldUserID {
			// A string that cannot be a UserId names no user: the same
			// answer as any other unknown id.
			return notFoundUser
		}
		return badRequest(typeInvalidValue, "%s", e.Describe(fields))
	case usercenter.ENotFound:
		if e.Resource == usercenter.ResourceApp {
			return &scimError{Status: http.StatusNotFound, Detail: "there is no such app"}
		}
		return notFoundUser
	case usercenter.EConflict:
		return &scimError{Status: http.StatusConflict, Type: typeUniqueness, Detail: e.Describe(fields)}
	case usercenter.EUnauthenticated:
		return errBadToken
	case usercenter.EForbidden:
		return &scimError{Status: http.StatusForbidden, Detail: e.Message}
	case usercenter.EDisabled:
		return &scimError{Status: http.StatusForbidden, Detail: "the app is disabled"}
	case usercenter.ERateLimited:
		return &scimError{Status: http.StatusTooManyRequests, Detail: "the request rate limit of the app has been exceeded; retry later"}
	case usercenter.EStale:
		// RFC 7644 §3.14: a failed If-Match is 412 and has no scimType.
		return &scimError{Status: http.StatusPreconditionFailed, Detail: "the user has changed since the version in If-Match; read it again"}
	case usercenter.EUnavailable:
		// The cause (a closed store, a Redis that is down) is for the log.
		return &scimError{Status: http.StatusServiceUnavailable, Detail: "the service is temporarily unavailable; retry later", cause: err}
	}
	return &scimError{Status: http.StatusInternalServerError, Detail: "an internal error occurred; quote the X-Request-Id header when reporting it", cause: err, internal: true}
}

var (
	notFoundUser = &scimError{Status: http.StatusNotFound, Detail: "there is no such user"}
	errBadToken  = &scimError{Status: http.StatusUnauthorized, Detail: "send a live SCIM token of this app as Authorization: Bearer <token> (usercenter scim token create)"}
)

// fail writes err as a SCIM error and records its status for the log.
func fail(w http.ResponseWriter, r *http.Request, err error) {
	e := fromDomain(err)
	status := strconv.Itoa(e.Status)
	result := status
	if e.Type != "" {
		result += "." + e.Type
	}
	obs.FromContext(r.Context()).SetResult(result, e.cause)
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scim"`)
	}
	if e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	httpio.WriteJSON(w, e.Status, mediaType, errorBody{Schemas: []string{schemaError}, Status: status, ScimType: e.Type, Detail: e.Detail})
}
