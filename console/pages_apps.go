package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"usercenter"
	"usercenter/core"
)

// Apps: the list with user counts, creation, settings, API keys and the
// SuperApp secret. Secrets (a new key's, a new SuperApp secret) are shown
// once, on the page that answers the POST which made them, and never
// again: the page says so, and is sent with no-store.

type appsData struct {
	page
	Apps []appRow
}

type appRow struct {
	usercenter.App
	Users int
}

func (s *Server) appsPage(w http.ResponseWriter, r *http.Request) {
	s.renderApps(w, r, s.page(r))
}

func (s *Server) renderApps(w http.ResponseWriter, r *http.Request, p page) {
	ctx, actor := r.Context(), actorFrom(r.Context())
	apps, err := s.svc.VisibleApps(ctx, actor)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	data := appsData{page: p}
	for _, app := range apps {
		st, err := s.svc.AppStats(ctx, actor, app.SdkAppID)
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		data.Apps = append(data.Apps, appRow{App: app, Users: st.Total})
	}
	s.show(w, r, p, "apps", data)
}

// secretShown is the page that shows a secret once.
type secretShown struct {
	page
	App       *usercenter.App
	What      string // "API key", "SuperApp secret"
	SecretID  string // an API key's SecretId, "" for the SuperApp secret
	Secret    string
	ReturnURL string
}

func (s *Server) showSecret(w http.ResponseWriter, r *http.Request, d secretShown) {
	w.Header().Set("Cache-Control", "no-store")
	s.show(w, r, d.page, "secret", d)
}

func (s *Server) createApp(w http.ResponseWriter, r *http.Request) {
	if !s.form(w, r) {
		return
	}
	in := core.NewApp{Name: strings.TrimSpace(r.PostFormValue("name")), UserDomain: strings.TrimSpace(r.PostFormValue("userDomain")),
		PhoneRegion: strings.TrimSpace(r.PostFormValue("phoneRegion"))}
	var err error
	if in.RateLimit, err = optionalInt(r.PostFormValue("rateLimit"), usercenter.FieldRateLimit); err == nil {
		in.TokenTTL, err = optionalDuration(r.PostFormValue("tokenTtl"), usercenter.FieldTokenTTL)
	}
	var app *usercenter.App
	var key *usercenter.APIKey
	if err == nil {
		app, key, err = s.svc.CreateApp(r.Context(), actorFrom(r.Context()), in)
	}
	if err != nil {
		s.formFailed(w, r, err, func(p page) { s.renderApps(w, r, p) })
		return
	}
	s.showSecret(w, r, secretShown{page: s.page(r), App: app, What: "API key", SecretID: key.SecretID, Secret: key.SecretKey,
		ReturnURL: "/console/apps/" + strconv.FormatUint(app.SdkAppID, 10)})
}

// formFailed answers a form the use case refused: bad input shows the
// form again with the error above it; anything else is the error page.
func (s *Server) formFailed(w http.ResponseWriter, r *http.Request, err error, again func(page)) {
	if usercenter.ErrorCode(err) != usercenter.EInvalid && usercenter.ErrorCode(err) != usercenter.EConflict {
		s.failErr(w, r, err)
		return
	}
	p := s.page(r)
	p.failed(err)
	again(p)
}

type appData struct {
	page
	App         *usercenter.App
	Keys        []usercenter.APIKey
	Ciphers     []usercenter.SuperAppCipher
	Permissions []usercenter.Permission
}

func (s *Server) appPage(w http.ResponseWriter, r *http.Request) {
	p := s.page(r)
	switch r.URL.Query().Get("done") {
	case "saved":
		p.Notice = "The settings are saved."
	case "revoked":
		p.Notice = "The key is revoked: requests signed with it fail from now on."
	}
	s.renderApp(w, r, p)
}

func (s *Server) renderApp(w http.ResponseWriter, r *http.Request, p page) {
	ctx, actor := r.Context(), actorFrom(r.Context())
	id, err := appID(r.PathValue("app"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	app, err := s.svc.App(ctx, actor, id)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	data := appData{page: p, App: app, Permissions: usercenter.AllPermissions,
		Ciphers: []usercenter.SuperAppCipher{usercenter.CipherAESECBHex, usercenter.CipherAESCBCBase64, usercenter.CipherAESGCMBase64}}
	if actor.ManagesApps {
		if data.Keys, err = s.svc.AppKeys(ctx, actor, id); err != nil {
			s.failErr(w, r, err)
			return
		}
	}
	s.show(w, r, p, "app", data)
}

func (s *Server) updateApp(w http.ResponseWriter, r *http.Request) {
	if !s.form(w, r) {
		return
	}
	id, err := appID(r.PathValue("app"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	p, err := appPatch(r)
	if err == nil {
		_, err = s.svc.UpdateApp(r.Context(), actorFrom(r.Context()), id, p)
	}
	if err != nil {
		s.formFailed(w, r, err, func(p page) { s.renderApp(w, r, p) })
		return
	}
	seeOther(w, r, "/console/apps/"+strconv.FormatUint(id, 10)+"?done=saved")
}

// appPatch reads the settings form: every setting is sent, and those equal
// to the stored ones change nothing (UpdateApp audits only changes).
func appPatch(r *http.Request) (core.AppPatch, error) {
	f := r.PostFormValue
	name, region := strings.TrimSpace(f("name")), strings.TrimSpace(f("phoneRegion"))
	cipher := usercenter.SuperAppCipher(f("superAppCipher"))
	p := core.AppPatch{Name: &name, PhoneRegion: &region, SuperAppCipher: &cipher}
	st, err := strconv.Atoi(f("status"))
	if err != nil || st != int(usercenter.AppActive) && st != int(usercenter.AppDisabled) {
		return p, usercenter.Invalid(usercenter.FieldAppStatus, "must be active or disabled")
	}
	status := usercenter.AppStatus(st)
	p.Status = &status
	rate, err := strconv.Atoi(strings.TrimSpace(f("rateLimit")))
	if err != nil {
		return p, usercenter.Invalid(usercenter.FieldRateLimit, "must be a whole number of requests a second")
	}
	p.RateLimit = &rate
	ttl, err := time.ParseDuration(strings.TrimSpace(f("tokenTtl")))
	if err != nil {
		return p, usercenter.Invalid(usercenter.FieldTokenTTL, "must be a duration such as 168h or 30m")
	}
	p.TokenTTL = &ttl
	code, err := time.ParseDuration(strings.TrimSpace(f("codeTtl")))
	if err != nil {
		return p, usercenter.Invalid(usercenter.FieldCodeTTL, "must be a duration such as 5m")
	}
	p.CodeTTL = &code
	return p, nil
}

func optionalInt(v string, field usercenter.Field) (int, error) {
	if v = strings.TrimSpace(v); v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, usercenter.Invalid(field, "must be a whole number")
	}
	return n, nil
}

func optionalDuration(v string, field usercenter.Field) (time.Duration, error) {
	if v = strings.TrimSpace(v); v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, usercenter.Invalid(field, "must be a duration such as 168h or 30m")
	}
	return d, nil
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) {
	if !s.form(w, r) {
		return
	}
	ctx, actor := r.Context(), actorFrom(r.Context())
	id, err := appID(r.PathValue("app"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	// The boxes' values, checked as the CLI's --permissions are: a value
	// the form does not offer would otherwise be stored on the key.
	perms, err := usercenter.ParsePermissions(strings.Join(r.PostForm["permission"], ","))
	if err != nil {
		s.formFailed(w, r, err, func(p page) { s.renderApp(w, r, p) })
		return
	}
	key, err := s.svc.CreateKey(ctx, actor, strings.TrimSpace(r.PostFormValue("keyName")), []uint64{id}, perms)
	if err != nil {
		s.formFailed(w, r, err, func(p page) { s.renderApp(w, r, p) })
		return
	}
	app, err := s.svc.App(ctx, actor, id)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.showSecret(w, r, secretShown{page: s.page(r), App: app, What: "API key", SecretID: key.SecretID, Secret: key.SecretKey,
		ReturnURL: "/console/apps/" + strconv.FormatUint(id, 10)})
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) {
	if !s.form(w, r) {
		return
	}
	id, err := appID(r.PathValue("app"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if err := s.svc.RevokeKey(r.Context(), actorFrom(r.Context()), r.PathValue("secretId")); err != nil {
		s.failErr(w, r, err)
		return
	}
	seeOther(w, r, "/console/apps/"+strconv.FormatUint(id, 10)+"?done=revoked")
}

func (s *Server) replaceSuperAppSecret(w http.ResponseWriter, r *http.Request) {
	if !s.form(w, r) {
		return
	}
	id, err := appID(r.PathValue("app"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	secret := usercenter.NewSuperAppSecretKey()
	app, err := s.svc.UpdateApp(r.Context(), actorFrom(r.Context()), id, core.AppPatch{SuperAppSecretKey: &secret})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.showSecret(w, r, secretShown{page: s.page(r), App: app, What: "SuperApp secret", Secret: app.SuperAppSecretKey,
		ReturnURL: "/console/apps/" + strconv.FormatUint(id, 10)})
}
