package enterprise

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"usercenter"
	"usercenter/obs"
)

// Codes of the body. The 5xxx, 50005 and 90047 values and their messages
// are the platform's; the others are usercenter's for cases the platform
// documents none for. docs/enterprise.md lists them; keep the two in step.
const (
	codeOK               = 200
	codeUnauthorized     = 401
	codeNotFound         = 404
	codeMethodNotAllowed = 405
	codeRateLimited      = 429
	codeNoDomainFound    = 5015
	codeNoDomain         = 5023
	codeBadToken         = 5032
	codeNoUser           = 5033
	codeNoPermission     = 5041
	codeNoUID            = 5065
	codeNoToken          = 5106
	codeInternal         = 50000
	codeParam            = 50005
	codeUnavailable      = 70000
	codeNoAccessKey      = 90047
)

// messages holds the msg of every code this facade answers with.
var messages = map[int]string{
	codeOK:               "OK",
	codeUnauthorized:     "Unauthorized",
	codeNotFound:         "Not found",
	codeMethodNotAllowed: "Method not allowed",
	codeRateLimited:      "Too many requests",
	codeNoDomainFound:    "User domain does not exist",
	codeNoDomain:         "Please enter user domain",
	codeBadToken:         "Token verification failed",
	codeNoUser:           "User does not exist",
	codeNoPermission:     "No permission",
	codeNoUID:            "Please enter user ID",
	codeNoToken:          "Please enter token",
	codeInternal:         "Service exception",
	codeParam:            "Parameter check error",
	codeUnavailable:      "Service unavailable",
	codeNoAccessKey:      "AccessKey didn't exists",
}

// apiError is an error as the API reports it: a code of messages, and an
// extMsg with more to say, safe to show.
type apiError struct {
	Code   int
	ExtMsg string
	cause  error // internal and unavailability errors only, for the log
}

func (e *apiError) Error() string { return strconv.Itoa(e.Code) + ": " + e.ExtMsg }

// paramError is a parameter check error.
func paramError(format string, args ...any) *apiError {
	return &apiError{Code: codeParam, ExtMsg: fmt.Sprintf(format, args...)}
}

// fields spells every domain field as this API's parameters do.
var fields = usercenter.Spelling{
	usercenter.FieldUserID: "uid", usercenter.FieldSdkAppID: "sdkAppId", usercenter.FieldOriginID: "originId", usercenter.FieldExternalID: "externalId", usercenter.FieldFullName: "fullName",
	usercenter.FieldStatus: "status", usercenter.FieldNickname: "nikeName", usercenter.FieldAvatar: "headimg",
	usercenter.FieldPhone: "phone", usercenter.FieldEmail: "email", usercenter.FieldAddress: "address",
	usercenter.FieldCity: "city", usercenter.FieldProvince: "province", usercenter.FieldNationality: "nationality",
	usercenter.FieldLang: "lang", usercenter.FieldTimezone: "timezone", usercenter.FieldSex: "sex",
	usercenter.FieldSignature: "signature", usercenter.FieldRemark: "remark", usercenter.FieldLogonMode: "logonMode",
	usercenter.FieldThirdParty: "thirdPartyIds",
	usercenter.FieldAppName:    "name", usercenter.FieldAppStatus: "appStatus", usercenter.FieldUserDomain: "userDomain",
	usercenter.FieldRateLimit: "rateLimit", usercenter.FieldTokenTTL: "tokenTtl", usercenter.FieldPhoneRegion: "phoneRegion",
	usercenter.FieldSuperAppSecretKey: "superAppSecretKey", usercenter.FieldSuperAppCipher: "superAppCipher",
	usercenter.FieldCodeTTL: "codeTtl", usercenter.FieldKeyName: "keyName", usercenter.FieldKeyApps: "keyApps",
	usercenter.FieldPermissions: "permissions", usercenter.FieldSecretID: "accessKey",
	usercenter.FieldUsers: "users", usercenter.FieldPage: "page", usercenter.FieldPageSize: "pageSize",
	usercenter.FieldCursor: "cursor", usercenter.FieldCreatedSince: "createdSince", usercenter.FieldCreatedUntil: "createdUntil",
	usercenter.FieldSince: "since", usercenter.FieldUntil: "until", usercenter.FieldProvider: "provider",
	usercenter.FieldProviderUserID: "providerUserId", usercenter.FieldUsername: "username", usercenter.FieldPassword: "password",
	usercenter.FieldTimestamp: "timestamp", usercenter.FieldCode: "code", usercenter.FieldValueKind: "type",
	usercenter.FieldToken: "token", usercenter.FieldAuditAction: "action", usercenter.FieldRole: "role", usercenter.FieldReason: "reason",
	usercenter.FieldWebhookID: "webhookId", usercenter.FieldWebhookURL: "url", usercenter.FieldWebhookEvents: "events",
}

// fromDomain maps an error from core to this API's codes. It is the one
// place where usercenter.Error codes meet the platform's.
func fromDomain(err error) *apiError {
	if e, ok := err.(*apiError); ok {
		return e
	}
	e := usercenter.ErrorOf(err)
	switch e.Code {
	case usercenter.EInvalid:
		if e.Field == usercenter.FieldUserID {
			// A string that cannot be a uid names no user: the same
			// answer as any other unknown uid.
			return &apiError{Code: codeNoUser}
		}
		if e.Field == usercenter.FieldUserDomain {
			return &apiError{Code: codeNoDomain}
		}
		return &apiError{Code: codeParam, ExtMsg: e.Describe(fields)}
	case usercenter.ENotFound:
		switch e.Resource {
		case usercenter.ResourceKey:
			return &apiError{Code: codeNoAccessKey}
		case usercenter.ResourceApp:
			return &apiError{Code: codeNoDomainFound}
		}
		return &apiError{Code: codeNoUser}
	case usercenter.EUnauthenticated:
		if e.Resource == usercenter.ResourceToken {
			return &apiError{Code: codeBadToken, ExtMsg: e.Message}
		}
		return &apiError{Code: codeUnauthorized, ExtMsg: e.Message}
	case usercenter.EForbidden:
		return &apiError{Code: codeNoPermission, ExtMsg: e.Message}
	case usercenter.EConflict:
		return &apiError{Code: codeParam, ExtMsg: e.Describe(fields)}
	case usercenter.EDisabled:
		if e.Resource == usercenter.ResourceApp {
			return &apiError{Code: codeNoPermission, ExtMsg: "the app of this user domain is disabled"}
		}
		return &apiError{Code: codeNoPermission, ExtMsg: "the user is disabled"}
	case usercenter.ERateLimited:
		if e.Resource == usercenter.ResourceKey {
			return &apiError{Code: codeRateLimited, ExtMsg: e.Message}
		}
		return &apiError{Code: codeRateLimited, ExtMsg: "the request rate limit of the app has been exceeded; retry later"}
	case usercenter.EStale:
		return &apiError{Code: codeParam, ExtMsg: e.Message}
	case usercenter.EUnavailable:
		// The cause (a closed store, a Redis that is down) is for the log.
		return &apiError{Code: codeUnavailable, ExtMsg: "the service is temporarily unavailable; retry later", cause: err}
	}
	return &apiError{Code: codeInternal, ExtMsg: "an internal error occurred; quote the X-Request-Id header when reporting it", cause: err}
}

// errorBody is a failure. quecauth routes add error, as the platform's
// login does.
type errorBody struct {
	Code   int    `json:"code"`
	Msg    string `json:"msg"`
	Error  string `json:"error,omitempty"`
	ExtMsg string `json:"extMsg"`
}

// fail writes err in the envelope and records its code for the log.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := fromDomain(err)
	msg, ok := messages[e.Code]
	if !ok { // a bug in this package: never a reason to answer oddly
		e = &apiError{Code: codeInternal, cause: err}
		msg = messages[codeInternal]
	}
	obs.FromContext(r.Context()).SetResult(strconv.Itoa(e.Code), e.cause)
	body := errorBody{Code: e.Code, Msg: msg, ExtMsg: e.ExtMsg}
	if routeFrom(r.Context()).quecauth {
		body.Error = msg
	}
	writeJSON(w, body)
}

// quoteName quotes a caller-supplied name, shortened, to echo it back.
func quoteName(s string) string {
	return strconv.Quote(usercenter.ClipName(strings.ToValidUTF8(s, "\uFFFD"), 64))
}

// validText reports whether a parameter is UTF-8 without control
// characters.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
