package superapp

import (
	"fmt"
	"net/http"

	"usercenter"
	"usercenter/httpio"
	"usercenter/obs"
)

// apiError is an answer other than success: a ReturnCode, its message and
// the HTTP status that carries it. Business results travel with 200, as
// the platform expects; the protocol's own failures (authentication,
// malformed requests, routing) use HTTP statuses and their number as the
// ReturnCode.
type apiError struct {
	status  int
	code    string // ReturnCode
	message string // ReturnMessage: safe to show, never a secret or personal data
	reason  string // for the log only: why authentication failed
	cause   error  // internal errors only, for the log
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// The platform's return codes, exactly as its documentation spells them:
// clients match on the messages, the typo in 200003 included.
const (
	CodeOK            = "0"
	CodeNoData        = "200000"
	CodeInvalidUser   = "200001"
	CodeInvalidUserID = "200002"
	CodeBadTempCode   = "200003"
)

// Messages of the platform's return codes.
var messages = map[string]string{
	CodeOK:            "OK",
	CodeNoData:        "request data is not exist",
	CodeInvalidUser:   "Invalid User",
	CodeInvalidUserID: "Invalid User id",
	CodeBadTempCode:   "ITemporary code error or expired",
}

func business(code string) *apiError {
	return &apiError{status: http.StatusOK, code: code, message: messages[code]}
}

// protocol is a failure of the protocol rather than of the request's
// business: its ReturnCode is its HTTP status.
func protocol(status int, message string) *apiError {
	return &apiError{status: status, code: fmt.Sprint(status), message: message}
}

// Authentication failures: each says what to fix, none says anything
// about the app's users.
const (
	msgMissingHeaders = "authentication failed: the TC-Timestamp and TC-Signature headers are required"
	msgBadTimestamp   = "authentication failed: TC-Timestamp must be the Unix time in milliseconds"
	msgBadSignature   = "authentication failed: TC-Signature is not the AES-ECB encryption of TC-Timestamp under the app's SuperAppSecretKey"
	msgNotHex         = "authentication failed: TC-Signature must be hex"
	msgStale          = "authentication failed: TC-Timestamp is more than 5 minutes away from the server's clock (it is in milliseconds since 1970)"
)

func authFailed(reason, message string) *apiError {
	e := protocol(http.StatusUnauthorized, message)
	e.reason = reason
	return e
}

var (
	errNoRoute = protocol(http.StatusNotFound, "no such endpoint: the super-app API serves checkUser, getUserAvatar, getUserNick, getUserInfoTemporaryCode, getUserPhoneNumber and getUserEmail under /superapp/user/, /superapp/inner/user/ or /user/, optionally after /apps/{SdkAppId}")
	errMethod  = protocol(http.StatusMethodNotAllowed, "use POST with a JSON body or GET with query parameters")
)

// noDefaultApp answers an unprefixed path when the instance has no
// default super-app.
func noDefaultApp(apps int) *apiError {
	if apps == 0 {
		return protocol(http.StatusNotFound, "no default super-app: the instance has no app yet; create one with `usercenter app create`")
	}
	return protocol(http.StatusNotFound, "no default super-app: the instance has several apps; call /apps/{SdkAppId}/superapp/user/<name>, or start the server with --superapp-app SDKAPPID")
}

// fields spells every domain field as this API's parameters do. Only
// UserId and Type are ever at fault in practice; the rest are spelled in
// the same style, so that no answer names a field another way.
var fields = usercenter.Spelling{
	usercenter.FieldUserID: "UserId", usercenter.FieldSdkAppID: "SdkAppId", usercenter.FieldOriginID: "OriginId", usercenter.FieldExternalID: "ExternalId", usercenter.FieldFullName: "FullName",
	usercenter.FieldStatus: "Status", usercenter.FieldNickname: "Nickname", usercenter.FieldAvatar: "Avatar",
	usercenter.FieldPhone: "Phone", usercenter.FieldEmail: "Email", usercenter.FieldAddress: "Address",
	usercenter.FieldCity: "City", usercenter.FieldProvince: "Province", usercenter.FieldNationality: "Nationality",
	usercenter.FieldLang: "Lang", usercenter.FieldTimezone: "Timezone", usercenter.FieldSex: "Sex",
	usercenter.FieldSignature: "Signature", usercenter.FieldRemark: "Remark", usercenter.FieldLogonMode: "LogonMode",
	usercenter.FieldThirdParty: "ThirdPartyIds",
	usercenter.FieldAppName:    "AppName", usercenter.FieldAppStatus: "AppStatus", usercenter.FieldUserDomain: "UserDomain",
	usercenter.FieldRateLimit: "RateLimit", usercenter.FieldTokenTTL: "TokenTTL", usercenter.FieldPhoneRegion: "PhoneRegion",
	usercenter.FieldSuperAppSecretKey: "SuperAppSecretKey", usercenter.FieldSuperAppCipher: "SuperAppCipher",
	usercenter.FieldCodeTTL: "CodeTTL", usercenter.FieldKeyName: "KeyName", usercenter.FieldKeyApps: "KeyApps",
	usercenter.FieldPermissions: "Permissions", usercenter.FieldSecretID: "SecretId",
	usercenter.FieldUsers: "Users", usercenter.FieldPage: "Page", usercenter.FieldPageSize: "PageSize",
	usercenter.FieldCursor: "Cursor", usercenter.FieldCreatedSince: "CreatedSince", usercenter.FieldCreatedUntil: "CreatedUntil",
	usercenter.FieldSince: "Since", usercenter.FieldUntil: "Until", usercenter.FieldProvider: "Provider",
	usercenter.FieldProviderUserID: "ProviderUserId", usercenter.FieldUsername: "Username", usercenter.FieldPassword: "Password",
	usercenter.FieldTimestamp: "TC-Timestamp", usercenter.FieldCode: "TemporaryCode", usercenter.FieldValueKind: "Type",
	usercenter.FieldToken: "Token", usercenter.FieldAuditAction: "Action", usercenter.FieldRole: "Role", usercenter.FieldReason: "Reason",
	usercenter.FieldWebhookID: "WebhookId", usercenter.FieldWebhookURL: "Url", usercenter.FieldWebhookEvents: "Events",
}

// fromDomain maps an error from core to an answer. It is the one place
// where usercenter.Error codes meet this API's return codes.
func fromDomain(err error) *apiError {
	if e, ok := err.(*apiError); ok {
		return e
	}
	e := usercenter.ErrorOf(err)
	switch e.Code {
	case usercenter.EInvalid:
		if e.Field == usercenter.FieldUserID {
			return business(CodeInvalidUserID)
		}
		return protocol(http.StatusBadRequest, e.Describe(fields))
	case usercenter.EUnauthenticated:
		if e.Field == usercenter.FieldTimestamp {
			return authFailed("stale TC-Timestamp", msgStale)
		}
		return authFailed("wrong signature or unknown app", msgBadSignature)
	case usercenter.ENotFound:
		switch e.Resource {
		case usercenter.ResourceValue:
			return business(CodeNoData)
		case usercenter.ResourceCode:
			return business(CodeBadTempCode)
		case usercenter.ResourceApp:
			// Only a removed default app can get here: a request for an
			// unknown app fails authentication first.
			return authFailed("app not found", msgBadSignature)
		}
		return business(CodeInvalidUserID)
	case usercenter.EDisabled:
		if e.Resource == usercenter.ResourceApp {
			return protocol(http.StatusForbidden, "the app is disabled")
		}
		return business(CodeInvalidUser)
	case usercenter.EForbidden:
		return protocol(http.StatusForbidden, "forbidden")
	case usercenter.EConflict:
		return protocol(http.StatusConflict, e.Describe(fields))
	case usercenter.ERateLimited:
		return protocol(http.StatusTooManyRequests, "the request rate limit of the app has been exceeded")
	case usercenter.EStale:
		return protocol(http.StatusConflict, e.Message)
	case usercenter.EUnavailable:
		return protocol(http.StatusServiceUnavailable, "the service is temporarily unavailable; retry later")
	}
	return &apiError{status: http.StatusInternalServerError, code: "500", message: "internal error; quote the RequestId when reporting it", cause: err}
}

// envelope is every answer's body.
type envelope struct {
	ReturnCode    string `json:"ReturnCode"`
	ReturnMessage string `json:"ReturnMessage"`
	Data          any    `json:"Data,omitempty"`
	RequestId     string `json:"RequestId"`
}

// fail writes err as an answer and records its code for the log.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := fromDomain(err)
	if e.reason != "" {
		a.log.Debug("super-app authentication failed", "request_id", usercenter.RequestID(r.Context()), "reason", e.reason)
	}
	if e.status == http.StatusTooManyRequests || e.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	write(w, r, e.status, envelope{ReturnCode: e.code, ReturnMessage: e.message}, e.cause)
}

// respond writes a success.
func respond(w http.ResponseWriter, r *http.Request, data any) {
	write(w, r, http.StatusOK, envelope{ReturnCode: CodeOK, ReturnMessage: messages[CodeOK], Data: data}, nil)
}

// write sends body with status and records its ReturnCode, and the
// internal error behind it if any, for the log.
func write(w http.ResponseWriter, r *http.Request, status int, body envelope, cause error) {
	info := obs.FromContext(r.Context())
	info.SetResult(body.ReturnCode, cause)
	body.RequestId = info.ID
	httpio.WriteJSON(w, status, "application/json; charset=utf-8", body)
}
