package enterprise

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"usercenter"
	"usercenter/core"
	"usercenter/httpio"
	"usercenter/obs"
)

// Page defaults, as the platform documents them.
const (
	defaultPage     = 1
	defaultPageSize = 10
)

// writeJSON writes an answer: always HTTP 200, the outcome in the body.
func writeJSON(w http.ResponseWriter, v any) {
	httpio.WriteJSON(w, http.StatusOK, "application/json;charset=UTF-8", v)
}

// envelope is a successful answer of the enterpriseapi routes.
type envelope struct {
	Code   int    `json:"code"`
	Data   any    `json:"data"`
	ExtMsg string `json:"extMsg"`
	Msg    string `json:"msg"`
}

// respond writes data in the success envelope.
func respond(w http.ResponseWriter, r *http.Request, data any) {
	obs.FromContext(r.Context()).Result = strconv.Itoa(codeOK)
	writeJSON(w, envelope{Code: codeOK, Data: data, Msg: messages[codeOK]})
}

// tokenBody is the answer of the login and of a refresh.
type tokenBody struct {
	Code        int    `json:"code"`
	Msg         string `json:"msg"`
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
	ExtMsg      string `json:"extMsg"`
}

func (a *api) respondToken(w http.ResponseWriter, r *http.Request, sess *core.EnterpriseSession) {
	obs.FromContext(r.Context()).Result = strconv.Itoa(codeOK)
	// Rounded: a token issued just now lives the whole TTL.
	expiresIn := int64(math.Round(sess.ExpiresAt.Sub(a.svc.Now()).Seconds()))
	writeJSON(w, tokenBody{
		Code:        codeOK,
		Msg:         messages[codeOK],
		AccessToken: tokenPrefix + sess.Token,
		TokenType:   "jwt",
		ExpiresIn:   max(expiresIn, 0),
		Scope:       "",
	})
}

// required returns a parameter that must be present and not empty.
func required(q url.Values, name string) (string, error) {
	v := q.Get(name)
	if v == "" {
		return "", paramError("%s is required", name)
	}
	return v, nil
}

// checkGrant checks the fixed grant_type of a quecauth route.
func checkGrant(q url.Values, want string) error {
	g, err := required(q, "grant_type")
	if err != nil {
		return paramError("grant_type is required and must be %q", want)
	}
	if g != want {
		return paramError("grant_type must be %q", want)
	}
	return nil
}

func (a *api) handleLogin() func(http.ResponseWriter, *http.Request, url.Values) {
	return func(w http.ResponseWriter, r *http.Request, q url.Values) {
		if err := checkGrant(q, "password"); err != nil {
			a.fail(w, r, err)
			return
		}
		// username arrives URI-encoded and is read here decoded, exactly
		// as it was signed: password = sha256hex(username + AccessSecret).
		username, err := required(q, "username")
		if err != nil {
			a.fail(w, r, err)
			return
		}
		password, err := required(q, "password")
		if err != nil {
			a.fail(w, r, err)
			return
		}
		sess, err := a.svc.AccessKeyLogin(r.Context(), username, password)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.respondToken(w, r, sess)
	}
}

func (a *api) handleRefresh() func(http.ResponseWriter, *http.Request, url.Values) {
	return func(w http.ResponseWriter, r *http.Request, q url.Values) {
		if err := checkGrant(q, "refresh_token"); err != nil {
			a.fail(w, r, err)
			return
		}
		token, err := required(q, "refresh_token")
		if err != nil {
			a.fail(w, r, err)
			return
		}
		sess, err := a.svc.RefreshEnterpriseToken(r.Context(), bareToken(token))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.respondToken(w, r, sess)
	}
}

// requiredUID returns the uid parameter, which names the user a route acts
// on.
func requiredUID(q url.Values) (string, error) {
	uid := strings.TrimSpace(q.Get("uid"))
	if uid == "" {
		return "", &apiError{Code: codeNoUID}
	}
	return uid, nil
}

func (a *api) handleUserInfo() func(http.ResponseWriter, *http.Request, url.Values) {
	return func(w http.ResponseWriter, r *http.Request, q url.Values) {
		uid, err := requiredUID(q)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		actor := actorFrom(r.Context())
		u, err := a.svc.GetUser(r.Context(), actor, uid, revealed(actor))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		respond(w, r, toUserJSON(u))
	}
}

// respondPage answers one page of a list: it reads the page and its size
// from q, fetches that page, and renders each item with toJSON.
func respondPage[T, J any](a *api, w http.ResponseWriter, r *http.Request, q url.Values,
	fetch func(page, size int) (items []T, total int, err error), toJSON func(*T) J) {
	page, size, err := paging(q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	items, total, err := fetch(page, size)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	list := make([]J, len(items))
	for i := range items {
		list[i] = toJSON(&items[i])
	}
	respond(w, r, newPageInfo(page, size, int64(total), list))
}

func (a *api) handleDomainList() func(http.ResponseWriter, *http.Request, url.Values) {
	return func(w http.ResponseWriter, r *http.Request, q url.Values) {
		respondPage(a, w, r, q, func(page, size int) ([]usercenter.App, int, error) {
			return a.svc.UserDomains(r.Context(), actorFrom(r.Context()), page, size)
		}, toDomainJSON)
	}
}

func (a *api) handleDomainUserList() func(http.ResponseWriter, *http.Request, url.Values) {
	return func(w http.ResponseWriter, r *http.Request, q url.Values) {
		domain := strings.TrimSpace(q.Get("userDomain"))
		if domain == "" {
			a.fail(w, r, &apiError{Code: codeNoDomain})
			return
		}
		if len(domain) > 64 || !utf8.ValidString(domain) {
			a.fail(w, r, &apiError{Code: codeNoDomainFound})
			return
		}
		respondPage(a, w, r, q, func(page, size int) ([]usercenter.User, int, error) {
			actor := actorFrom(r.Context())
			res, err := a.svc.ListUsers(r.Context(), actor, core.UserQuery{
				UserDomain: domain, Offset: (page - 1) * size, Limit: size, WithTotal: true, Reveal: revealed(actor),
			})
			if err != nil {
				return nil, 0, err
			}
			return res.Users, res.Total, nil
		}, toUserJSON)
	}
}

func (a *api) handleSetUserStatus() func(http.ResponseWriter, *http.Request, url.Values) {
	return func(w http.ResponseWriter, r *http.Request, q url.Values) {
		uid, err := requiredUID(q)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		var status usercenter.UserStatus
		switch q.Get("status") {
		case "0":
			status = usercenter.UserDisabled
		case "1":
			status = usercenter.UserActive
		case "":
			a.fail(w, r, paramError("status is required: 0 (disabled) or 1 (normal)"))
			return
		default:
			a.fail(w, r, paramError("status must be 0 (disabled) or 1 (normal)"))
			return
		}
		if _, err := a.svc.UpdateUser(r.Context(), actorFrom(r.Context()), uid, core.UserPatch{Status: &status}); err != nil {
			a.fail(w, r, err)
			return
		}
		respond(w, r, struct{}{})
	}
}

// paging reads page (default 1) and pageSize (default 10). Both must be
// plain decimal numbers; page must be at least 1 and fit an int32, and a
// pageSize above core.MaxEnterprisePageSize is cut down to it.
func paging(q url.Values) (page, size int, err error) {
	page, size = defaultPage, defaultPageSize
	if q.Has("page") {
		n, ok := decimal(q.Get("page"))
		if !ok || n < 1 || n > math.MaxInt32 {
			return 0, 0, paramError("page must be a number from 1 to %d", math.MaxInt32)
		}
		page = int(n)
	}
	if q.Has("pageSize") {
		n, ok := decimal(q.Get("pageSize"))
		if !ok || n < 1 {
			return 0, 0, paramError("pageSize must be a number from 1 to %d", core.MaxEnterprisePageSize)
		}
		size = int(min(n, core.MaxEnterprisePageSize))
	}
	return page, size, nil
}

// decimal reads a string of ASCII digits; numbers too large for an int64
// read as math.MaxInt64.
func decimal(s string) (int64, bool) {
	if s == "" || len(s) > 64 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return math.MaxInt64, true
	}
	return n, true
}

// revealed is what an actor sees in plain through this API: phone and
// email with pii.read, each disclosure audited, nothing otherwise. The
// address stays masked for everyone: the platform's user object shows it
// as it is stored for display.
func revealed(actor *usercenter.Actor) []usercenter.PIIField {
	if actor.Has(usercenter.PermPIIRead) {
		return []usercenter.PIIField{usercenter.FieldPhone, usercenter.FieldEmail}
	}
	return nil
}
