package restapi

import (
	"net/http"
	"strconv"
	"strings"

	"usercenter"
	"usercenter/httpio"
	"usercenter/obs"
)

// problem is an error as the API reports it: an RFC 9457 problem detail
// with a stable code. Handlers return problems for protocol errors and
// domain errors for everything else; fail turns both into a response.
type problem struct {
	Code   string // a key of problemTypes
	Field  string // the body member or query parameter at fault, if any
	Detail string // safe to show: never a secret or personal data
	cause  error  // internal errors and unavailability with a cause only, for the log
}

func (p *problem) Error() string { return p.Code + ": " + p.Detail }

// problemType is the fixed part of a code: its status and title.
type problemType struct {
	status int
	title  string
}

// problemTypes holds every code the API answers with. docs/api.md lists
// them for users, and the OpenAPI document's Problem schema enumerates
// them; keep the three in step (a test checks the document).
var problemTypes = map[string]problemType{
	"malformed_json":         {http.StatusBadRequest, "Malformed JSON"},
	"invalid_type":           {http.StatusBadRequest, "Wrong JSON type"},
	"unknown_field":          {http.StatusBadRequest, "Unknown field"},
	"invalid_field":          {http.StatusBadRequest, "Invalid field value"},
	"unauthenticated":        {http.StatusUnauthorized, "Authentication required"},
	"forbidden":              {http.StatusForbidden, "Forbidden"},
	"user_disabled":          {http.StatusForbidden, "User disabled"},
	"app_disabled":           {http.StatusForbidden, "App disabled"},
	"not_found":              {http.StatusNotFound, "Not found"},
	"user_not_found":         {http.StatusNotFound, "User not found"},
	"app_not_found":          {http.StatusNotFound, "App not found"},
	"webhook_not_found":      {http.StatusNotFound, "Webhook endpoint not found"},
	"method_not_allowed":     {http.StatusMethodNotAllowed, "Method not allowed"},
	"origin_id_taken":        {http.StatusConflict, "OriginId already taken"},
	"third_party_id_taken":   {http.StatusConflict, "Third-party ID already linked"},
	"conflict":               {http.StatusConflict, "Conflict"},
	"payload_too_large":      {http.StatusRequestEntityTooLarge, "Payload too large"},
	"unsupported_media_type": {http.StatusUnsupportedMediaType, "Unsupported media type"},
	"rate_limited":           {http.StatusTooManyRequests, "Rate limit exceeded"},
	"internal":               {http.StatusInternalServerError, "Internal error"},
	"unavailable":            {http.StatusServiceUnavailable, "Service unavailable"},
}

// problemBase prefixes a code to make a problem's type URI.
const problemBase = "https://usercenter.dev/problems/"

// fields spells every domain field as this API's JSON members and query
// parameters do.
var fields = usercenter.Spelling{
	usercenter.FieldUserID: "userId", usercenter.FieldSdkAppID: "sdkAppId", usercenter.FieldOriginID: "originId", usercenter.FieldExternalID: "externalId", usercenter.FieldFullName: "fullName",
	usercenter.FieldStatus: "status", usercenter.FieldNickname: "nickname", usercenter.FieldAvatar: "avatar",
	usercenter.FieldPhone: "phone", usercenter.FieldEmail: "email", usercenter.FieldAddress: "address",
	usercenter.FieldCity: "city", usercenter.FieldProvince: "province", usercenter.FieldNationality: "nationality",
	usercenter.FieldLang: "lang", usercenter.FieldTimezone: "timezone", usercenter.FieldSex: "sex",
	usercenter.FieldSignature: "signature", usercenter.FieldRemark: "remark", usercenter.FieldLogonMode: "logonMode",
	usercenter.FieldThirdParty: "thirdPartyIds",
	usercenter.FieldAppName:    "appName", usercenter.FieldAppStatus: "appStatus", usercenter.FieldUserDomain: "userDomain",
	usercenter.FieldRateLimit: "rateLimit", usercenter.FieldTokenTTL: "tokenTtl", usercenter.FieldPhoneRegion: "phoneRegion",
	usercenter.FieldSuperAppSecretKey: "superAppSecretKey", usercenter.FieldSuperAppCipher: "superAppCipher",
	usercenter.FieldCodeTTL: "codeTtl", usercenter.FieldKeyName: "keyName", usercenter.FieldKeyApps: "keyApps",
	usercenter.FieldPermissions: "permissions", usercenter.FieldSecretID: "secretId",
	usercenter.FieldUsers: "users", usercenter.FieldPage: "page", usercenter.FieldPageSize: "limit",
	usercenter.FieldCursor: "next", usercenter.FieldCreatedSince: "createdSince", usercenter.FieldCreatedUntil: "createdUntil",
	usercenter.FieldSince: "since", usercenter.FieldUntil: "until", usercenter.FieldProvider: "provider",
	usercenter.FieldProviderUserID: "providerUserId", usercenter.FieldUsername: "username", usercenter.FieldPassword: "password",
	usercenter.FieldTimestamp: "timestamp", usercenter.FieldCode: "code", usercenter.FieldValueKind: "type",
	usercenter.FieldToken: "token", usercenter.FieldAuditAction: "action", usercenter.FieldRole: "role", usercenter.FieldReason: "reason",
	usercenter.FieldWebhookID: "webhookId", usercenter.FieldWebhookURL: "url", usercenter.FieldWebhookEvents: "events",
}

// fieldOf is the member or parameter an error is about, as this API
// names it: an error about one user of an import is users.<index>.<member>.
func fieldOf(e *usercenter.Error) string {
	name, ok := fields.Spell(e.Field)
	if !ok {
		name = ""
	}
	if i, ok := e.ItemIndex(); ok {
		users, _ := fields.Spell(usercenter.FieldUsers)
		prefix := users + "." + strconv.Itoa(i)
		if name == "" {
			return prefix
		}
		return prefix + "." + name
	}
	return name
}

// detailOf is a domain error's message in this API's terms; an error about
// one user of an import starts with users.<index>: .
func detailOf(e *usercenter.Error) string {
	msg := e.Describe(fields)
	if i, ok := e.ItemIndex(); ok {
		users, _ := fields.Spell(usercenter.FieldUsers)
		return users + "." + strconv.Itoa(i) + ": " + msg
	}
	return msg
}

// fromDomain maps an error from core to a problem. It is the one place
// where usercenter.Error codes meet this API's codes.
func fromDomain(err error) *problem {
	if p, ok := err.(*problem); ok {
		return p
	}
	e := usercenter.ErrorOf(err)
	switch e.Code {
	case usercenter.EInvalid:
		return &problem{Code: "invalid_field", Field: fieldOf(e), Detail: detailOf(e)}
	case usercenter.ENotFound:
		switch e.Resource {
		case usercenter.ResourceApp:
			return &problem{Code: "app_not_found", Detail: "no such app"}
		case usercenter.ResourceKey:
			// An unknown or revoked key answers exactly like a wrong secret.
			return errBadKey
		case usercenter.ResourceWebhook:
			return &problem{Code: "webhook_not_found", Detail: "no such webhook endpoint"}
		default:
			return &problem{Code: "user_not_found", Detail: "no such user"}
		}
	case usercenter.EConflict:
		field := fieldOf(e)
		base, _ := e.Field.Split()
		_, item := e.ItemIndex()
		switch {
		case base == usercenter.FieldOriginID && item:
			return &problem{Code: "origin_id_taken", Field: field, Detail: detailOf(e)}
		case base == usercenter.FieldOriginID:
			return &problem{Code: "origin_id_taken", Field: field, Detail: "another user of the app has this originId"}
		case base == usercenter.FieldThirdParty && item:
			return &problem{Code: "third_party_id_taken", Field: field, Detail: detailOf(e)}
		case base == usercenter.FieldThirdParty:
			return &problem{Code: "third_party_id_taken", Field: field, Detail: "this third-party ID is linked to another user of the app"}
		}
		return &problem{Code: "conflict", Field: field, Detail: detailOf(e)}
	case usercenter.EForbidden:
		return &problem{Code: "forbidden", Detail: e.Message}
	case usercenter.EUnauthenticated:
		if e.Resource == usercenter.ResourceKey {
			return errBadKey
		}
		return &problem{Code: "unauthenticated", Detail: e.Message}
	case usercenter.ERateLimited:
		return &problem{Code: "rate_limited", Detail: e.Message}
	case usercenter.EDisabled:
		if e.Resource == usercenter.ResourceApp {
			return &problem{Code: "app_disabled", Detail: "the app is disabled"}
		}
		return &problem{Code: "user_disabled", Detail: "the user is disabled"}
	case usercenter.EStale:
		return &problem{Code: "conflict", Detail: e.Message}
	case usercenter.EUnavailable:
		p := &problem{Code: "unavailable", Detail: "the service is temporarily unavailable; retry later"}
		if e.Err != nil { // a cause worth logging; the whole error, so that obs tells it from a cancellation
			p.cause = err
		}
		return p
	}
	return &problem{Code: "internal", Detail: "an internal error occurred; quote the requestId when reporting it", cause: err}
}

// problemBody is the JSON of a problem.
type problemBody struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      string `json:"code"`
	RequestID string `json:"requestId"`
	Field     string `json:"field,omitempty"`
}

// fail writes err as a problem and records its code for the log.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := fromDomain(err)
	pt, ok := problemTypes[p.Code]
	if !ok { // a bug in this package: never a reason to answer oddly
		p = &problem{Code: "internal", Detail: "an internal error occurred", cause: err}
		pt = problemTypes["internal"]
	}
	obs.FromContext(r.Context()).SetResult(p.Code, p.cause)
	h := w.Header()
	switch p.Code {
	case "unauthenticated":
		if scheme, _ := r.Context().Value(schemeKey{}).(authScheme); scheme == authBearer {
			v := `Bearer realm="usercenter"`
			if r.Header.Get("Authorization") != "" {
				v += `, error="invalid_token"`
			}
			h.Set("WWW-Authenticate", v)
		} else {
			h.Set("WWW-Authenticate", `Basic realm="usercenter", charset="UTF-8"`)
		}
	case "rate_limited", "unavailable":
		h.Set("Retry-After", "1")
	}
	httpio.WriteJSON(w, pt.status, "application/problem+json", problemBody{
		Type:      problemBase + p.Code,
		Title:     pt.title,
		Status:    pt.status,
		Detail:    p.Detail,
		Code:      p.Code,
		RequestID: usercenter.RequestID(r.Context()),
		Field:     p.Field,
	})
}

// quote quotes a caller-supplied name for a message, clipped.
func quote(s string) string { return strconv.Quote(clipName(s)) }

// clipName shortens a caller-supplied name to echo it back.
func clipName(s string) string {
	return usercenter.ClipName(strings.ToValidUTF8(s, "\uFFFD"), 64)
}
