package console

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"usercenter"
	"usercenter/core"
)

func fmtID(id uint64) string { return strconv.FormatUint(id, 10) }

// between is the text of s between the first start and the end after it.
func between(s, start, end string) string {
	_, rest, _ := strings.Cut(s, start)
	v, _, _ := strings.Cut(rest, end)
	return v
}

// The SCIM tokens page: an admin creates a token, sees it once (no-store),
// finds it listed by ID only, and revokes it; a token of another app is
// not revoked from this app's page; roles that do not manage apps are
// refused by core, whatever they forge.
func TestSCIMTokensPage(t *testing.T) {
	e := newPagesEnv(t, Options{})
	other, _, err := e.svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	path := "/console/apps/" + fmtID(e.app.SdkAppID) + "/scim"
	e.get(adminActor(), "/console/apps/"+fmtID(e.app.SdkAppID)).want(t, 200, `href="`+path+`"`)
	e.get(adminActor(), path).want(t, 200, "No tokens.", "users.write", "pii.read")

	res := e.post(adminActor(), path, url.Values{"permission": {"users.write"}})
	res.want(t, 200, "shown this once")
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the page showing the token is cacheable: %q", res.Header.Get("Cache-Control"))
	}
	tokens, err := e.svc.SCIMTokens(bg, adminActor(), e.app.SdkAppID)
	if err != nil || len(tokens) != 1 {
		t.Fatalf("tokens: %+v, %v", tokens, err)
	}
	secret := between(res.Body, `<code class="secret">`, `</code>`)
	actor, err := e.svc.AuthenticateSCIMToken(bg, e.app.SdkAppID, secret)
	if err != nil || actor.Name != "scim:"+tokens[0].ID || !actor.Has(usercenter.PermUsersWrite) || actor.Has(usercenter.PermPIIRead) {
		t.Fatalf("the token shown (%q) authenticates as %+v, %v", secret, actor, err)
	}
	list := e.get(adminActor(), path)
	list.want(t, 200, tokens[0].ID, "Revoke")
	if strings.Contains(list.Body, secret) {
		t.Fatal("the list shows the token again")
	}

	e.post(adminActor(), path, url.Values{"permission": {"users.write", "everything"}}).want(t, 400)
	e.post(adminActor(), path, url.Values{"permission": {"apps.manage"}}).want(t, 400)
	for _, actor := range []*usercenter.Actor{supportActor(), viewerActor()} {
		e.get(actor, path).want(t, 403)
		e.post(actor, path, url.Values{"permission": {"pii.read"}}).want(t, 403)
		e.post(actor, path+"/"+tokens[0].ID+"/revoke", nil).want(t, 403)
	}
	// Under another app's path, the token is not found.
	e.post(adminActor(), "/console/apps/"+fmtID(other.SdkAppID)+"/scim/"+tokens[0].ID+"/revoke", nil).want(t, 404)
	if _, err := e.svc.AuthenticateSCIMToken(bg, e.app.SdkAppID, secret); err != nil {
		t.Fatalf("revoked from another app's page: %v", err)
	}

	if res := e.post(adminActor(), path+"/"+tokens[0].ID+"/revoke", nil); res.Status != 303 || res.Header.Get("Location") != path+"?done=revoked" {
		t.Fatalf("revoke: %d %q", res.Status, res.Header.Get("Location"))
	}
	if _, err := e.svc.AuthenticateSCIMToken(bg, e.app.SdkAppID, secret); err == nil {
		t.Fatal("the revoked token still authenticates")
	}
	e.get(adminActor(), path+"?done=revoked").want(t, 200, "The token is revoked", "revoked 20")
}
