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
	cause  error  // internal errors only, for the log
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

// fromDomain maps an error from core to a problem. It is the one place
// where usercenter.Error codes meet this API's codes.
func fromDomain(err error) *problem {
	if p, ok := err.(*problem); ok {
		return p
	}
	e := usercenter.ErrorOf(err)
	switch e.Code {
	case usercenter.EInvalid:
		return &problem{Code: "invalid_field", Field: apiField(e.Field), Detail: e.Message}
	case usercenter.ENotFound:
		switch e.Resource {
		case usercenter.ResourceApp:
			return &problem{Code: "app_not_found", Detail: "no such app"}
		case usercenter.ResourceKey:
			// An unknown or revoked key answers exactly like a wrong secret.
			return errBadKey
		default:
			return &problem{Code: "user_not_found", Detail: "no such user"}
		}
	case usercenter.EConflict:
		field := apiField(e.Field)
		// A conflict of one user of an import (users.3.originId) has the
		// code of that field, and core's message, which says with whom.
		own, item := itemField(field)
		switch {
		case own == "originId" && item:
			return &problem{Code: "origin_id_taken", Field: field, Detail: e.Message}
		case own == "originId":
			return &problem{Code: "origin_id_taken", Field: field, Detail: "another user of the app has this originId"}
		case strings.HasPrefix(own, "thirdPartyIds.") && item:
			return &problem{Code: "third_party_id_taken", Field: field, Detail: e.Message}
		case strings.HasPrefix(own, "thirdPartyIds."):
			return &problem{Code: "third_party_id_taken", Field: field, Detail: "this third-party ID is linked to another user of the app"}
		}
		return &problem{Code: "conflict", Field: field, Detail: e.Message}
	case usercenter.EForbidden:
		return &problem{Code: "forbidden", Detail: e.Message}
	case usercenter.EUnauthenticated:
		return &problem{Code: "unauthenticated", Detail: e.Message}
	case usercenter.ERateLimited:
		return &problem{Code: "rate_limited", Detail: e.Message}
	case usercenter.EDisabled:
		if e.Resource == usercenter.ResourceApp {
			return &problem{Code: "app_disabled", Detail: "the app is disabled"}
		}
		return &problem{Code: "user_disabled", Detail: "the user is disabled"}
	case usercenter.EUnavailable:
		return &problem{Code: "unavailable", Detail: "the service is temporarily unavailable; retry later"}
	}
	return &problem{Code: "internal", Detail: "an internal error occurred; quote the requestId when reporting it", cause: err}
}

// itemField splits the field of one item of a batch, users.<index>.<field>,
// into <field> and true; any other field comes back as it is, with false.
func itemField(f string) (string, bool) {
	rest, ok := strings.CutPrefix(f, "users.")
	if !ok {
		return f, false
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 || i == len(rest) || rest[i] != '.' {
		return f, false
	}
	return rest[i+1:], true
}

// apiField turns a domain field name into this API's: core names some
// fields as the Tencent Cloud facade spells them ("UserId", "OriginId").
func apiField(f string) string {
	if f == "" {
		return ""
	}
	head, rest, _ := strings.Cut(f, ".")
	if head != "" && head[0] >= 'A' && head[0] <= 'Z' {
		head = strings.ToLower(head[:1]) + head[1:]
	}
	if rest != "" {
		return head + "." + rest
	}
	return head
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
