package scim_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

// A user goes through its life: created as Okta and Entra create them,
// read back with every attribute mapped, found by userName, deleted.
func TestUserLifecycle(t *testing.T) {
	env := uctest.New(t)
	c := newClient(t, env, env.App.SdkAppID, usercenter.PermUsersWrite)

	created := c.do("POST", "Users", `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "`+urnExt+`"],
		"userName": "Alice@Example.com",
		"externalId": "00u1a2b3",
		"name": {"givenName": "Alice", "familyName": "Smith"},
		"displayName": "Alice Smith",
		"active": "True",
		"preferredLanguage": "en-US",
		"timezone": "Europe/Paris",
		"photos": [{"value": "https://example.com/alice.png", "type": "photo"}],
		"emails": [{"value": "alice@example.com", "type": "work", "primary": true}],
		"`+urnExt+`": {"city": "Paris", "thirdPartyIds": {"qq": "10001"}}
	}`).want(t, http.StatusCreated)
	id := created.str("id")
	if !strings.HasSuffix(created.header.Get("Location"), "/scim/v2/"+strconv.FormatUint(env.App.SdkAppID, 10)+"/Users/"+id) ||
		created.header.Get("Location") != created.str("meta.location") {
		t.Errorf("Location %q, meta.location %q", created.header.Get("Location"), created.str("meta.location"))
	}
	for path, want := range map[string]any{
		"userName": "Alice@Example.com", "displayName": "Alice Smith", "nickName": "Alice Smith",
		"active": true, "preferredLanguage": "en-US", "locale": "en-US", "timezone": "Europe/Paris",
		"meta.resourceType": "User", urnExt + ".city": "Paris",
	} {
		if got := created.get(path); got != want {
			t.Errorf("created %s = %v, want %v", path, got, want)
		}
	}
	if created.get("emails") != nil {
		t.Errorf("without pii.read the emails are shown: %s", created)
	}
	if created.str("externalId") != "00u1a2b3" || created.get("name") != nil {
		t.Errorf("externalId not kept, or a name without formatted shown: %s", created)
	}
	if ids, _ := created.get(urnExt + ".thirdPartyIds").(map[string]any); ids["qq"] != "10001" {
		t.Errorf("thirdPartyIds: %s", created)
	}
	if photos, _ := created.get("photos").([]any); len(photos) != 1 || photos[0].(map[string]any)["value"] != "https://example.com/alice.png" {
		t.Errorf("photos: %s", created)
	}

	got := c.do("GET", "Users/"+id, "").want(t, http.StatusOK)
	etag := got.header.Get("ETag")
	if !strings.HasPrefix(etag, `W/"`) || etag != got.str("meta.version") || etag != created.header.Get("ETag") {
		t.Errorf("ETag %q, meta.version %q, at creation %q", etag, got.str("meta.version"), created.header.Get("ETag"))
	}
	if got.str("userName") != "Alice@Example.com" || got.str("meta.created") == "" || got.str("meta.lastModified") == "" {
		t.Errorf("GET: %s", got)
	}
	// The stored user is the domain's: same OriginId, status, email.
	u, err := env.Svc.GetUser(bg, usercenter.Operator(), id, []usercenter.PIIField{usercenter.FieldEmail})
	if err != nil || u.OriginID != "Alice@Example.com" || u.Email != "alice@example.com" || u.Status != usercenter.UserActive || u.Avatar == "" {
		t.Fatalf("stored %+v, %v", u, err)
	}

	// userName is case-exact.
	list := c.do("GET", "Users?filter="+url.QueryEscape(`userName eq "Alice@Example.com"`), "").want(t, http.StatusOK)
	if list.get("totalResults") != 1.0 || list.str("schemas") != "" {
		t.Errorf("filter userName: %s", list)
	}
	if res, _ := list.get("Resources").([]any); len(res) != 1 || res[0].(map[string]any)["id"] != id {
		t.Errorf("filter userName: %s", list)
	}
	none := c.do("GET", "Users?filter="+url.QueryEscape(`userName eq "alice@example.com"`), "").want(t, http.StatusOK)
	if none.get("totalResults") != 0.0 || none.get("itemsPerPage") != 0.0 || none.get("startIndex") != 1.0 {
		t.Errorf("filter of nobody (Entra's non-existent user): %s", none)
	}
	if res, ok := none.get("Resources").([]any); !ok || len(res) != 0 {
		t.Errorf("filter of nobody: Resources must be an empty list: %s", none)
	}
	// A value no user can have finds nobody, whatever rule it breaks.
	for _, f := range []string{`userName eq "two words"`, `userName eq "` + strings.Repeat("x", 200) + `"`} {
		if none := c.do("GET", "Users?filter="+url.QueryEscape(f), "").want(t, http.StatusOK); none.get("totalResults") != 0.0 {
			t.Errorf("%s: %s", f, none)
		}
	}
	// Attribute names and operators are case-insensitive; id filters too.
	byID := c.do("GET", "Users?filter="+url.QueryEscape(`ID EQ "`+id+`" and Active eq true`), "").want(t, http.StatusOK)
	if byID.get("totalResults") != 1.0 {
		t.Errorf("filter by id and active: %s", byID)
	}
	// POST /Users/.search takes the same in its body.
	searched := c.do("POST", "Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],`+
		`"filter":"userName eq \"Alice@Example.com\"","startIndex":1,"count":10}`).want(t, http.StatusOK)
	if res, _ := searched.get("Resources").([]any); searched.get("totalResults") != 1.0 || len(res) != 1 || res[0].(map[string]any)["id"] != id {
		t.Errorf(".search: %s", searched)
	}
	inactive := c.do("GET", "Users?filter="+url.QueryEscape(`username eq "Alice@Example.com" and active eq false`), "").want(t, http.StatusOK)
	if inactive.get("totalResults") != 0.0 {
		t.Errorf("filter of an active user by active eq false: %s", inactive)
	}

	c.do("DELETE", "Users/"+id, "").want(t, http.StatusNoContent)
	c.do("GET", "Users/"+id, "").wantError(t, http.StatusNotFound, "")
	c.do("DELETE", "Users/"+id, "").wantError(t, http.StatusNotFound, "")
	if byID := c.do("GET", "Users?filter="+url.QueryEscape(`id eq "`+id+`"`), "").want(t, http.StatusOK); byID.get("totalResults") != 0.0 {
		t.Errorf("filter by the id of a deleted user: %s", byID)
	}
}

// Paging by startIndex and count over the app's users in creation order.
func TestListPaging(t *testing.T) {
	env := uctest.New(t)
	c := newClient(t, env, env.App.SdkAppID, usercenter.PermUsersWrite)
	var ids []string
	for i := range 5 {
		ids = append(ids, c.createUser(userBody("user"+strconv.Itoa(i), "")))
	}
	page := func(query string) ([]string, *answer) {
		a := c.do("GET", "Users"+query, "").want(t, http.StatusOK)
		var got []string
		res, _ := a.get("Resources").([]any)
		for _, r := range res {
			got = append(got, r.(map[string]any)["id"].(string))
		}
		if a.get("totalResults") != 5.0 || a.get("itemsPerPage") != float64(len(got)) {
			t.Errorf("%s: %s", query, a)
		}
		return got, a
	}
	if got, _ := page(""); strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Errorf("every user: %v, want %v", got, ids)
	}
	if got, a := page("?startIndex=2&count=2"); strings.Join(got, ",") != strings.Join(ids[1:3], ",") || a.get("startIndex") != 2.0 {
		t.Errorf("startIndex=2&count=2: %v, want %v", got, ids[1:3])
	}
	if got, _ := page("?startIndex=5&count=100"); len(got) != 1 || got[0] != ids[4] {
		t.Errorf("the last page: %v", got)
	}
	if got, _ := page("?startIndex=9"); len(got) != 0 {
		t.Errorf("past the end: %v", got)
	}
	if got, _ := page("?count=0"); len(got) != 0 {
		t.Errorf("count=0 gives only the total: %v", got)
	}
	if got, a := page("?startIndex=-3&count=-1"); len(got) != 0 || a.get("startIndex") != 1.0 {
		t.Errorf("negative startIndex and count read as 1 and 0: %v %s", got, a)
	}
	if got, _ := page("?count=1000"); len(got) != 5 {
		t.Errorf("count above the maximum: %v", got)
	}
	searched := c.do("POST", "Users/.search", `{"startIndex":4,"count":5}`).want(t, http.StatusOK)
	if res, _ := searched.get("Resources").([]any); len(res) != 2 || res[0].(map[string]any)["id"] != ids[3] || searched.get("totalResults") != 5.0 {
		t.Errorf(".search paging: %s", searched)
	}
	c.do("GET", "Users?startIndex=10001", "").wantError(t, http.StatusBadRequest, "invalidValue")
	c.do("GET", "Users?count=many", "").wantError(t, http.StatusBadRequest, "invalidValue")
}

// A token of one app sees nothing of another's: a foreign user's id
// answers exactly as an id that does not exist, and the token is refused
// on the other app's endpoint.
func TestIsolation(t *testing.T) {
	env := uctest.New(t)
	appB, _ := env.NewApp(t, "second", 1000)
	a := newClient(t, env, env.App.SdkAppID, usercenter.PermUsersWrite, usercenter.PermPIIRead)
	b := newClient(t, env, appB.SdkAppID, usercenter.PermUsersWrite)
	foreign := b.createUser(userBody("shared", ""))
	a.createUser(userBody("shared", "")) // userName is unique per app, not across apps
	nobody := usercenter.NewUserID(env.Clock.Now())

	for _, method := range []string{"GET", "DELETE"} {
		f := a.do(method, "Users/"+foreign, "")
		n := a.do(method, "Users/"+nobody, "")
		f.wantError(t, http.StatusNotFound, "")
		if f.raw != n.raw {
			t.Errorf("%s: a foreign user answers %s, a missing one %s", method, f.raw, n.raw)
		}
	}
	if list := a.do("GET", "Users?filter="+url.QueryEscape(`id eq "`+foreign+`"`), "").want(t, http.StatusOK); list.get("totalResults") != 0.0 {
		t.Errorf("filter by a foreign id: %s", list)
	}
	if list := a.do("GET", "Users", "").want(t, http.StatusOK); list.get("totalResults") != 1.0 {
		t.Errorf("app A lists %s", list)
	}
	stranger := &client{t: t, env: env, app: appB.SdkAppID, token: a.token}
	stranger.do("GET", "Users/"+foreign, "").wantError(t, http.StatusUnauthorized, "")
	stranger.do("GET", "Users", "").wantError(t, http.StatusUnauthorized, "")
	if _, err := env.Svc.GetUser(bg, usercenter.Operator(), foreign, nil); err != nil {
		t.Errorf("app B's user after app A's attempts: %v", err)
	}
}

// Personal data: left out without pii.read; with it shown in plain, each
// value read audited with the SCIM token as the actor.
func TestPersonalData(t *testing.T) {
	env := uctest.New(t)
	writer := newClient(t, env, env.App.SdkAppID, usercenter.PermUsersWrite)
	reader, err := env.Svc.CreateSCIMToken(bg, usercenter.Operator(), env.App.SdkAppID, []usercenter.Permission{usercenter.PermPIIRead})
	if err != nil {
		t.Fatal(err)
	}
	pii := &client{t: t, env: env, app: env.App.SdkAppID, token: reader.Token}
	id := writer.createUser(userBody("bob", `"emails":[{"value":"Bob@Example.com"}],"phoneNumbers":[{"value":"+8613612346688","type":"mobile"}],"addresses":[{"formatted":"1 Main St","type":"work"}]`))

	plain := writer.do("GET", "Users/"+id, "").want(t, http.StatusOK)
	for _, attr := range []string{"emails", "phoneNumbers", "addresses"} {
		if plain.get(attr) != nil {
			t.Errorf("without pii.read %s is shown: %s", attr, plain)
		}
	}
	if strings.Contains(plain.raw, "6688") || strings.Contains(plain.raw, "xample") {
		t.Errorf("without pii.read a trace of personal data is shown: %s", plain)
	}
	events := func() []usercenter.AuditEvent {
		events, err := svctest.AuditEvents(env.Svc, bg, usercenter.Operator(), usercenter.AuditFilter{Action: usercenter.AuditReveal, Limit: core.MaxListLimit})
		if err != nil {
			t.Fatal(err)
		}
		return events
	}
	if n := len(events()); n != 0 {
		t.Fatalf("%d reveal events before any read with pii.read", n)
	}

	shown := pii.do("GET", "Users/"+id, "").want(t, http.StatusOK)
	emails, _ := shown.get("emails").([]any)
	phones, _ := shown.get("phoneNumbers").([]any)
	addrs, _ := shown.get("addresses").([]any)
	if len(emails) != 1 || emails[0].(map[string]any)["value"] != "bob@example.com" ||
		len(phones) != 1 || phones[0].(map[string]any)["value"] != "+8613612346688" ||
		len(addrs) != 1 || addrs[0].(map[string]any)["formatted"] != "1 Main St" {
		t.Errorf("with pii.read: %s", shown)
	}
	got := events()
	fields := map[string]bool{}
	for _, e := range got {
		if e.Actor != "scim:"+reader.ID || e.UserID != id {
			t.Errorf("reveal event %+v: want the SCIM token as the actor", e)
		}
		fields[e.Field] = true
	}
	if len(got) != 3 || !fields["phone"] || !fields["email"] || !fields["address"] {
		t.Errorf("reveal events %+v, want one per personal field", got)
	}
	// A listing with pii.read reveals too, audited; one of the total only
	// discloses nothing.
	pii.do("GET", "Users", "").want(t, http.StatusOK)
	if n := len(events()); n != 6 {
		t.Errorf("%d reveal events after a listing, want 6", n)
	}
	if total := pii.do("GET", "Users?count=0", "").want(t, http.StatusOK); total.get("totalResults") != 1.0 || len(events()) != 6 {
		t.Errorf("count=0: %s, and %d reveal events, want still 6", total, len(events()))
	}
	// Finding users by email needs pii.read.
	q := "Users?filter=" + url.QueryEscape(`emails.value eq "bob@example.com"`)
	writer.do("GET", q, "").wantError(t, http.StatusForbidden, "")
	if found := pii.do("GET", q, "").want(t, http.StatusOK); found.get("totalResults") != 1.0 {
		t.Errorf("filter by email: %s", found)
	}
	if found := pii.do("GET", "Users?filter="+url.QueryEscape(`phoneNumbers.value eq "+8613612346688"`), "").want(t, http.StatusOK); found.get("totalResults") != 1.0 {
		t.Errorf("filter by phone: %s", found)
	}
	for _, f := range []string{`emails.value eq "not an email"`, `phoneNumbers.value eq "not a phone"`} {
		if none := pii.do("GET", "Users?filter="+url.QueryEscape(f), "").want(t, http.StatusOK); none.get("totalResults") != 0.0 {
			t.Errorf("%s: %s", f, none)
		}
	}
	// Writing needs users.write, which the reader lacks.
	pii.do("POST", "Users", userBody("carol", "")).wantError(t, http.StatusForbidden, "")
	pii.do("DELETE", "Users/"+id, "").wantError(t, http.StatusForbidden, "")
}

// Creations and deletions through SCIM are audited as any other, by the
// token.
func TestAuditedWrites(t *testing.T) {
	env := uctest.New(t)
	tok, err := env.Svc.CreateSCIMToken(bg, usercenter.Operator(), env.App.SdkAppID, []usercenter.Permission{usercenter.PermUsersWrite})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, env: env, app: env.App.SdkAppID, token: tok.Token}
	id := c.createUser(userBody("dave", ""))
	c.do("DELETE", "Users/"+id, "").want(t, http.StatusNoContent)
	events, err := svctest.AuditEvents(env.Svc, bg, usercenter.Operator(), usercenter.AuditFilter{Actor: "scim:" + tok.ID, Limit: core.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, string(e.Action))
	}
	if strings.Join(actions, ",") != "create,delete" {
		t.Errorf("audit events by the token: %v", actions)
	}
}
