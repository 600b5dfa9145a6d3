package console

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"usercenter"
	"usercenter/core"
)

func TestDashboard(t *testing.T) {
	traffic, api := trafficOf(t)
	e := newPagesEnv(t, Options{Traffic: traffic})
	for n := range 3 {
		e.user(n, e.app.SdkAppID)
	}
	disabled := usercenter.UserDisabled
	u := e.user(3, e.app.SdkAppID)
	if _, err := e.svc.UpdateUser(bg, usercenter.Operator(), u.ID, core.UserPatch{Status: &disabled}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/ok", "/ok", "/fail"} {
		api.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	res := e.get(viewerActor(), "/console/")
	res.want(t, 200, "Shop", "<dt>Users</dt><dd>4</dd>", "<dt>Active</dt><dd><a", ">3</a>", ">1</a>",
		`role="img"`, "New users per day as a table", "<td>restapi</td><td>GetUser</td><td>3</td><td>1</td>")
	// Today's bar holds the four users, and the table says so.
	if !regexp.MustCompile(`<title>[^<]*: 4</title>`).MatchString(res.Body) || !strings.Contains(res.Body, "<td>4</td>") {
		t.Fatalf("the chart does not show today's 4 users:\n%s", res.Body)
	}

	// An account limited to another app sees neither this app nor its counts.
	limited := viewerActor()
	limited.AllApps, limited.Apps = false, []uint64{42}
	res = e.get(limited, "/console/")
	res.want(t, 200, "There are no apps you may see")
	if strings.Contains(res.Body, "Shop") {
		t.Fatal("a limited account sees an app outside its scope")
	}
}

func TestAppsPages(t *testing.T) {
	e := newPagesEnv(t, Options{})
	e.user(1, e.app.SdkAppID)
	e.get(viewerActor(), "/console/apps").want(t, 200, "Shop", fmt.Sprintf(`<a href="/console/users?app=%d">1</a>`, e.app.SdkAppID))
	if strings.Contains(e.get(viewerActor(), "/console/apps").Body, "Create an app") {
		t.Fatal("a viewer is offered to create an app")
	}

	// Creating: the first key's secret is shown once.
	res := e.post(adminActor(), "/console/apps", url.Values{"name": {"New Shop"}, "rateLimit": {"30"}, "tokenTtl": {"48h"}})
	res.want(t, 200, "shown this once", "SecretKey")
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("the page with a secret may be cached")
	}
	apps, err := e.svc.VisibleApps(bg, adminActor())
	if err != nil || len(apps) != 2 {
		t.Fatalf("apps after create: %+v, %v", apps, err)
	}
	created := apps[0]
	if created.SdkAppID == e.app.SdkAppID {
		created = apps[1]
	}
	if created.Name != "New Shop" || created.RateLimit != 30 || created.TokenTTL.Hours() != 48 {
		t.Fatalf("created %+v", created)
	}
	secretOf := func(body string) string {
		m := regexp.MustCompile(`<code class="secret">([^<]+)</code>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no secret on the page:\n%s", body)
		}
		return m[1]
	}
	first := secretOf(res.Body)
	keys, _ := e.svc.AppKeys(bg, adminActor(), created.SdkAppID)
	if len(keys) != 1 {
		t.Fatalf("keys: %+v", keys)
	}
	if _, err := e.svc.AuthenticateKey(bg, keys[0].SecretID, first); err != nil {
		t.Fatalf("the secret shown does not authenticate its key: %v", err)
	}
	if strings.Contains(e.get(adminActor(), "/console/apps/"+strconv.FormatUint(created.SdkAppID, 10)).Body, first) {
		t.Fatal("the app page shows the key's secret again")
	}
	// Bad input shows the form again with the error.
	e.post(adminActor(), "/console/apps", url.Values{"name": {"x"}, "tokenTtl": {"soon"}}).want(t, 400, `role="alert"`, "tokenTtl")

	path := "/console/apps/" + strconv.FormatUint(e.app.SdkAppID, 10)
	settings := url.Values{"name": {"Shop Renamed"}, "status": {"1"}, "rateLimit": {"25"}, "tokenTtl": {"24h"}, "codeTtl": {"3m"},
		"phoneRegion": {"SG"}, "superAppCipher": {"aes-gcm-base64"}}
	for _, actor := range []*usercenter.Actor{viewerActor(), supportActor()} {
		// The server refuses, whatever the page offered.
		e.post(actor, "/console/apps", url.Values{"name": {"Sneaky"}}).want(t, 403)
		e.post(actor, path, settings).want(t, 403)
		e.post(actor, path+"/keys", url.Values{"permission": {"users.read"}}).want(t, 403)
		e.post(actor, path+"/keys/"+e.key.SecretID+"/revoke", nil).want(t, 403)
		e.post(actor, path+"/superapp-secret", nil).want(t, 403)
	}
	if app, _ := e.svc.App(bg, adminActor(), e.app.SdkAppID); app.Name != "Shop" {
		t.Fatalf("a refused settings form changed the app: %+v", app)
	}

	res = e.post(adminActor(), path, settings)
	if res.Status != 303 {
		t.Fatalf("settings: %d\n%s", res.Status, res.Body)
	}
	app, _ := e.svc.App(bg, adminActor(), e.app.SdkAppID)
	if app.Name != "Shop Renamed" || app.RateLimit != 25 || app.TokenTTL.Hours() != 24 || app.CodeTTL.Minutes() != 3 || app.PhoneRegion != "SG" || app.SuperAppCipher != usercenter.CipherAESGCMBase64 {
		t.Fatalf("settings saved as %+v", app)
	}
	events, _, _ := e.svc.AuditPage(bg, adminActor(), usercenter.AuditFilter{SdkAppID: e.app.SdkAppID, Action: usercenter.AuditAppUpdate})
	if len(events) != 6 || events[0].Actor != "console:admin1" {
		t.Fatalf("settings audited as %+v, want 6 changes by the console account", events)
	}

	// A permission the form does not offer is refused, not stored.
	before, _ := e.svc.AppKeys(bg, adminActor(), e.app.SdkAppID)
	e.post(adminActor(), path+"/keys", url.Values{"keyName": {"odd"}, "permission": {"users.read", "everything"}}).
		want(t, 400, "unknown permission")
	if after, _ := e.svc.AppKeys(bg, adminActor(), e.app.SdkAppID); len(after) != len(before) {
		t.Fatalf("a key with an unknown permission was created: %+v", after[len(after)-1])
	}

	// A key with chosen permissions, shown once; then revoked.
	res = e.post(adminActor(), path+"/keys", url.Values{"keyName": {"reader"}, "permission": {"users.read"}})
	res.want(t, 200, "shown this once")
	keys, _ = e.svc.AppKeys(bg, adminActor(), e.app.SdkAppID)
	k := keys[len(keys)-1]
	if k.Name != "reader" || len(k.Permissions) != 1 || k.Permissions[0] != usercenter.PermUsersRead {
		t.Fatalf("key %+v", k)
	}
	if res := e.post(adminActor(), path+"/keys/"+k.SecretID+"/revoke", nil); res.Status != 303 {
		t.Fatalf("revoke: %d %s", res.Status, res.Body)
	}
	e.get(adminActor(), path+"?done=revoked").want(t, 200, "The key is revoked", "revoked 20")
	e.post(adminActor(), path+"/keys", url.Values{"keyName": {"none"}}).want(t, 400, "Permissions must name at least one permission")

	// The SuperApp secret, replaced and shown once.
	res = e.post(adminActor(), path+"/superapp-secret", nil)
	res.want(t, 200, "SuperApp secret", "shown this once")
	stored, err := e.svc.RevealSuperAppSecret(bg, usercenter.Operator(), e.app.SdkAppID)
	if err != nil || secretOf(res.Body) != stored {
		t.Fatalf("the secret shown is not the stored one (%v)", err)
	}
}

func TestUsersListAndSearch(t *testing.T) {
	e := newPagesEnv(t, Options{})
	other, _, err := e.svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	var users []*usercenter.User
	for n := range usersPageSize + 5 {
		users = append(users, e.user(n, e.app.SdkAppID))
	}
	stranger := e.user(999, other.SdkAppID)
	disabled := usercenter.UserDisabled
	if _, err := e.svc.UpdateUser(bg, usercenter.Operator(), users[2].ID, core.UserPatch{Status: &disabled}); err != nil {
		t.Fatal(err)
	}
	appQ := "app=" + strconv.FormatUint(e.app.SdkAppID, 10)

	// Newest first, a page at a time.
	res := e.get(viewerActor(), "/console/users?"+appQ)
	res.want(t, 200, users[len(users)-1].ID, "Older users", "Search is exact")
	if strings.Index(res.Body, users[len(users)-1].ID) > strings.Index(res.Body, users[len(users)-2].ID) {
		t.Fatal("the list is not newest first")
	}
	if strings.Contains(res.Body, users[0].ID) {
		t.Fatal("the first page holds the oldest user")
	}
	next := regexp.MustCompile(`href="(/console/users\?[^"]+)" rel="next"`).FindStringSubmatch(res.Body)
	if next == nil {
		t.Fatal("no link to the next page")
	}
	res = e.get(viewerActor(), strings.ReplaceAll(next[1], "&amp;", "&"))
	res.want(t, 200, users[0].ID, users[4].ID)
	if strings.Contains(res.Body, users[5].ID) || strings.Contains(res.Body, "Older users") {
		t.Fatal("the second page repeats the first, or goes on")
	}
	// The status filter.
	res = e.get(viewerActor(), "/console/users?"+appQ+"&status=0")
	res.want(t, 200, users[2].ID)
	if strings.Count(res.Body, `<a href="/console/users/`) != 1 {
		t.Fatalf("the disabled filter lists others:\n%s", res.Body)
	}
	e.get(viewerActor(), "/console/users?"+appQ+"&status=7").want(t, 400, "status")

	// Each kind of exact search, in the chosen app.
	target := users[7]
	search := func(actor *usercenter.Actor, kind, q string, extra ...string) response {
		v := url.Values{"app": {strconv.FormatUint(e.app.SdkAppID, 10)}, "kind": {kind}, "q": {q}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return e.get(actor, "/console/users?"+v.Encode())
	}
	for _, c := range []struct{ kind, q string }{
		{"userId", target.ID}, {"originId", "origin-7"}, {"phone", testPhone(7)}, {"email", "Person.7@Example.com"}, {"thirdParty", "wx-7"},
	} {
		res := search(supportActor(), c.kind, c.q, "provider", string(usercenter.ProviderWeChatUnion))
		res.want(t, 200, target.ID, "Exact matches")
		if n := strings.Count(res.Body, `<a href="/console/users/`); n != 1 {
			t.Fatalf("search %s found %d users, want 1:\n%s", c.kind, n, res.Body)
		}
	}
	// A part of a value finds nothing: search is exact.
	search(supportActor(), "originId", "origin-").want(t, 200, "No user has exactly that value")
	search(supportActor(), "email", "person.7@example.co").want(t, 200, "No user has exactly that value")
	// A UserId finds a user in any app the actor may see, not others.
	search(supportActor(), "userId", stranger.ID).want(t, 200, stranger.ID)
	limited := supportActor()
	limited.AllApps, limited.Apps = false, []uint64{e.app.SdkAppID}
	search(limited, "userId", stranger.ID).want(t, 200, "No user has exactly that value")
	// A viewer may not look people up by phone or email: core refuses.
	search(viewerActor(), "phone", testPhone(7)).want(t, 403, "pii.read")
	search(viewerActor(), "nonsense", "x").want(t, 400, "Kind of value must be UserId, OriginId")
}

func TestUserPageRevealAndRefusals(t *testing.T) {
	e := newPagesEnv(t, Options{})
	u := e.user(1, e.app.SdkAppID)
	path := "/console/users/" + u.ID
	res := e.get(viewerActor(), path)
	res.want(t, 200, u.ID, "origin-1", "wx-7"[:3], "Live login tokens</dt><dd>0", "Recent audit events", "create")
	for _, hidden := range []string{"Reveal personal data", "Disable the user", "Delete the user"} {
		if strings.Contains(res.Body, hidden) {
			t.Fatalf("a viewer is offered %q", hidden)
		}
	}
	if _, err := e.svc.Login(bg, e.key.Actor(), core.UserRef{UserID: u.ID}); err != nil {
		t.Fatal(err)
	}
	e.get(viewerActor(), path).want(t, 200, "Live login tokens</dt><dd>1")

	reveal := url.Values{"field": {"phone"}, "reason": {"ticket 7: cannot log in"}}
	// A viewer's reveal is refused by the server, and nothing is audited.
	res = e.post(viewerActor(), path+"/reveal", reveal)
	res.want(t, 403)
	if strings.Contains(res.Body, testPhone(1)[3:]) {
		t.Fatal("a refused reveal shows the phone")
	}
	// Without a reason, refused too.
	res = e.post(supportActor(), path+"/reveal", url.Values{"field": {"phone"}, "reason": {"  "}})
	res.want(t, 400, "reason")
	if strings.Contains(res.Body, testPhone(1)[3:]) {
		t.Fatal("a reveal without a reason shows the phone")
	}
	e.post(supportActor(), path+"/reveal", url.Values{"reason": {"why not"}}).want(t, 400, "Choose what to reveal")
	e.post(supportActor(), path+"/reveal", url.Values{"field": {"nickname"}, "reason": {"x"}}).want(t, 400)
	if evs := e.reveals(u.ID); len(evs) != 0 {
		t.Fatalf("refused reveals were audited: %+v", evs)
	}

	res = e.post(supportActor(), path+"/reveal", reveal)
	res.want(t, 200, htmlText(testPhone(1)), "shown in plain")
	if strings.Contains(res.Body, testEmail(1)) {
		t.Fatal("the email was shown without being asked for")
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("a page with revealed data may be cached")
	}
	evs := e.reveals(u.ID)
	if len(evs) != 1 || evs[0].Field != "phone" || evs[0].Actor != "console:support1" || evs[0].Reason != "ticket 7: cannot log in" {
		t.Fatalf("reveal audited as %+v", evs)
	}
	e.get(viewerActor(), path).want(t, 200, "ticket 7: cannot log in")

	// Writes by a viewer are refused by the server.
	nick := url.Values{"nickname": {"changed"}}
	e.post(viewerActor(), path+"/edit", nick).want(t, 403)
	e.post(viewerActor(), path+"/status", url.Values{"status": {"0"}}).want(t, 403)
	e.post(viewerActor(), path+"/delete", url.Values{"confirm": {u.ID}}).want(t, 403)
	got, err := e.svc.GetUser(bg, usercenter.Operator(), u.ID, nil)
	if err != nil || got.Nickname != "nick1" || got.Status != usercenter.UserActive {
		t.Fatalf("after the refused writes: %+v, %v", got, err)
	}

	// Edit: profile fields as sent; personal data only when typed.
	e.get(supportActor(), path+"/edit").want(t, 200, `value="nick1"`)
	res = e.post(supportActor(), path+"/edit", url.Values{"nickname": {"changed"}, "city": {"Paris"}, "phone": {""}, "email": {"new@example.com"}})
	if res.Status != 303 {
		t.Fatalf("edit: %d %s", res.Status, res.Body)
	}
	got, _ = e.svc.GetUser(bg, usercenter.Operator(), u.ID, usercenter.PIIFields)
	if got.Nickname != "changed" || got.City != "Paris" || got.Phone != testPhone(1) || got.Email != "new@example.com" {
		t.Fatalf("edited to %+v", got)
	}
	e.post(supportActor(), path+"/edit", url.Values{"email": {"not an email"}}).want(t, 400, `role="alert"`, "email")
}

func (e *pagesEnv) reveals(userID string) []usercenter.AuditEvent {
	e.t.Helper()
	evs, _, err := e.svc.AuditPage(bg, usercenter.Operator(), usercenter.AuditFilter{UserID: userID, Action: usercenter.AuditReveal})
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

func TestDisableEnableDelete(t *testing.T) {
	e := newPagesEnv(t, Options{})
	u := e.user(1, e.app.SdkAppID)
	path := "/console/users/" + u.ID
	res := e.post(supportActor(), path+"/status", url.Values{"status": {"0"}})
	if res.Status != 303 || res.Header.Get("Location") != path+"?done=disabled" {
		t.Fatalf("disable: %d %v", res.Status, res.Header)
	}
	// The LCIC LoginUser of a disabled user is refused.
	_, err := e.svc.Login(bg, e.key.Actor(), core.UserRef{UserID: u.ID})
	if usercenter.ErrorCode(err) != usercenter.EDisabled {
		t.Fatalf("login of a disabled user: %v", err)
	}
	e.get(supportActor(), path+"?done=disabled").want(t, 200, "The user is disabled", "Enable the user")
	if res := e.post(supportActor(), path+"/status", url.Values{"status": {"1"}}); res.Status != 303 {
		t.Fatalf("enable: %d", res.Status)
	}
	if _, err := e.svc.Login(bg, e.key.Actor(), core.UserRef{UserID: u.ID}); err != nil {
		t.Fatalf("login after enabling: %v", err)
	}
	e.post(supportActor(), path+"/status", url.Values{"status": {"2"}}).want(t, 400)
	// Revoking tokens ends the live ones; the LCIC session check fails.
	sess, err := e.svc.Login(bg, e.key.Actor(), core.UserRef{UserID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	e.post(viewerActor(), path+"/revoke-tokens", nil).want(t, 403)
	if _, err := e.svc.Me(bg, sess.Token); err != nil {
		t.Fatalf("a viewer's refused revoke ended the token: %v", err)
	}
	res = e.post(supportActor(), path+"/revoke-tokens", nil)
	if res.Status != 303 {
		t.Fatalf("revoke tokens: %d %s", res.Status, res.Body)
	}
	e.get(supportActor(), res.Header.Get("Location")).want(t, 200, "2 live login tokens are revoked", "Live login tokens</dt><dd>0")
	if _, err := e.svc.Me(bg, sess.Token); usercenter.ErrorCode(err) == "" {
		t.Fatal("a revoked token still works")
	}
	events, _, _ := e.svc.AuditPage(bg, usercenter.Operator(), usercenter.AuditFilter{UserID: u.ID, Action: usercenter.AuditTokensRevoke})
	if len(events) != 1 || events[0].Actor != "console:support1" {
		t.Fatalf("tokens.revoke audited as %+v", events)
	}

	// Delete needs the UserId typed exactly.
	e.post(supportActor(), path+"/delete", url.Values{"confirm": {u.ID[:10]}}).want(t, 400, "type their UserId")
	if _, err := e.svc.GetUser(bg, usercenter.Operator(), u.ID, nil); err != nil {
		t.Fatalf("deleted without the confirmation: %v", err)
	}
	e.post(supportActor(), path+"/delete", url.Values{"confirm": {u.ID}}).want(t, 200, "is deleted")
	if _, err := e.svc.GetUser(bg, usercenter.Operator(), u.ID, nil); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("after delete: %v", err)
	}
	e.get(supportActor(), path).want(t, 404)
	st, _ := e.svc.AppStats(bg, usercenter.Operator(), e.app.SdkAppID)
	if st.Total != 0 {
		t.Fatalf("the dashboard still counts the deleted user: %+v", st)
	}
}

func TestAuditPageAndCSV(t *testing.T) {
	e := newPagesEnv(t, Options{})
	other, _, err := e.svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	u := e.user(1, e.app.SdkAppID)
	e.user(2, other.SdkAppID)
	for i := range auditPageSize + 10 {
		reason := fmt.Sprintf("check %d", i)
		if i == 3 {
			reason = "=HYPERLINK(\"x\")"
		}
		if _, err := e.svc.RevealUser(bg, supportActor(), u.ID, []usercenter.PIIField{usercenter.FieldEmail}, reason); err != nil {
			t.Fatal(err)
		}
	}
	// Newest first, paged.
	res := e.get(viewerActor(), "/console/audit")
	res.want(t, 200, "check 59", "Older events")
	if strings.Contains(res.Body, "check 3</td>") {
		t.Fatal("the first page reaches the oldest events")
	}
	next := regexp.MustCompile(`href="(/console/audit\?[^"]+)" rel="next"`).FindStringSubmatch(res.Body)
	res = e.get(viewerActor(), strings.ReplaceAll(next[1], "&amp;", "&"))
	res.want(t, 200, "check 0</td>", "app.create")
	// Filters: app, user, action, actor, field.
	q := url.Values{"app": {strconv.FormatUint(other.SdkAppID, 10)}}
	res = e.get(viewerActor(), "/console/audit?"+q.Encode())
	res.want(t, 200, "app.create", "key.create", "<td>create</td>")
	if strings.Contains(res.Body, "reveal") && strings.Contains(res.Body, "check") {
		t.Fatal("the app filter lets other apps' events through")
	}
	q = url.Values{"user": {u.ID}, "action": {"create"}}
	res = e.get(viewerActor(), "/console/audit?"+q.Encode())
	if strings.Count(res.Body, "<td>create</td>") != 1 || strings.Contains(res.Body, "check") {
		t.Fatalf("user and action filter:\n%s", res.Body)
	}
	e.get(viewerActor(), "/console/audit?actor=console:nobody").want(t, 200, "No events match")
	e.get(viewerActor(), "/console/audit?actor=console:support1&field=email").want(t, 200, "check 12")
	e.get(viewerActor(), "/console/audit?since=2999-01-01T00:00").want(t, 200, "No events match")
	e.get(viewerActor(), "/console/audit?since=yesterday").want(t, 400, "since")
	e.get(viewerActor(), "/console/audit?action=steal").want(t, 400)

	// The CSV of the filter: every matching event, all pages of it.
	csvRes := e.get(viewerActor(), "/console/audit.csv?action=reveal&user="+u.ID)
	if csvRes.Status != 200 || !strings.HasPrefix(csvRes.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %v", csvRes.Status, csvRes.Header)
	}
	rows, err := csv.NewReader(strings.NewReader(csvRes.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != auditPageSize+10+1 || strings.Join(rows[0], ",") != strings.Join(auditCSVHeader, ",") {
		t.Fatalf("CSV has %d rows (header %v), want a header and %d events", len(rows), rows[0], auditPageSize+10)
	}
	if rows[1][8] != "check 59" || rows[len(rows)-1][8] != "check 0" || rows[1][6] != "console:support1" {
		t.Fatalf("CSV rows: first %v, last %v", rows[1], rows[len(rows)-1])
	}
	for _, r := range rows[1:] {
		if strings.HasPrefix(r[8], "=") {
			t.Fatalf("a reason is written as a formula: %v", r)
		}
	}
	e.get(viewerActor(), "/console/audit.csv?since=never").want(t, 400)
}

// No page shows a plain phone number or email that was not revealed: the
// seeded values appear in none, in any form a user would recognise.
func TestNoPlainPersonalData(t *testing.T) {
	traffic, _ := trafficOf(t)
	e := newPagesEnv(t, Options{Traffic: traffic})
	var users []*usercenter.User
	for n := range 5 {
		users = append(users, e.user(n, e.app.SdkAppID))
	}
	u := users[2]
	app := strconv.FormatUint(e.app.SdkAppID, 10)
	paths := []string{"/console/", "/console/apps", "/console/apps/" + app, "/console/users?app=" + app,
		"/console/users?app=" + app + "&status=1", "/console/users/" + u.ID, "/console/users/" + u.ID + "/edit",
		"/console/audit", "/console/audit.csv",
		"/console/users?" + url.Values{"app": {app}, "kind": {"phone"}, "q": {testPhone(2)}}.Encode(),
		"/console/users?" + url.Values{"app": {app}, "kind": {"email"}, "q": {testEmail(2)}}.Encode()}
	var secrets []string
	for n := range users {
		phone := testPhone(n)
		secrets = append(secrets, phone, phone[3:], phone[6:], testEmail(n), strings.Split(testEmail(n), "@")[0],
			fmt.Sprintf("%d Secret Street", n))
	}
	for _, actor := range []*usercenter.Actor{adminActor(), supportActor(), viewerActor()} {
		for _, p := range paths {
			res := e.get(actor, p)
			if res.Status != 200 && res.Status != 403 {
				t.Fatalf("%s as %s: %d\n%s", p, actor.Name, res.Status, res.Body)
			}
			// The search value a page echoes into its box is the
			// operator's own typing, not the user's data: drop the box.
			body := regexp.MustCompile(`<input id="q"[^>]*>`).ReplaceAllString(res.Body, "")
			for _, s := range secrets {
				if strings.Contains(body, s) {
					t.Fatalf("%s as %s shows %q in plain", p, actor.Name, s)
				}
			}
		}
	}
	// The one page that shows it is the answer to a reveal.
	e.post(supportActor(), "/console/users/"+u.ID+"/reveal", url.Values{"field": {"phone", "email"}, "reason": {"test"}}).
		want(t, 200, htmlText(testPhone(2)), testEmail(2))
}

// htmlText is s as html/template writes it in text.
func htmlText(s string) string { return strings.ReplaceAll(s, "+", "&#43;") }

// Every page is behind the session: without one, nothing is served or
// changed.
func TestPagesNeedSignIn(t *testing.T) {
	e := newPagesEnv(t, Options{})
	u := e.user(1, e.app.SdkAppID)
	form := url.Values{"status": {"0"}, "csrf": {"x"}}
	r := httptest.NewRequest("POST", "/console/users/"+u.ID+"/status", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	e.mux.ServeHTTP(w, r)
	if w.Code != 401 {
		t.Fatalf("a POST without a session: %d", w.Code)
	}
	if got, _ := e.svc.GetUser(bg, usercenter.Operator(), u.ID, nil); got.Status != usercenter.UserActive {
		t.Fatal("a POST without a session disabled the user")
	}
	w = httptest.NewRecorder()
	e.mux.ServeHTTP(w, httptest.NewRequest("GET", "/console/users/"+u.ID, nil))
	// It is sent to sign in, and comes back to the page afterwards; the
	// page itself is not served.
	if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/signin?next=") ||
		strings.Contains(w.Body.String(), u.Nickname) {
		t.Fatalf("a GET without a session: %d %s\n%s", w.Code, loc, w.Body)
	}
}
