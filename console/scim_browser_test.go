package console

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"usercenter/uctest"
)

// TestBrowserSCIMTokens: an admin opens an app's SCIM tokens from its
// page, creates a token that may write users, sees it once, and an
// identity provider's requests bearing it are served at /scim/v2; the
// list then names it without the token; the admin revokes it, and the
// next request bearing it is refused. Every page passes axe-core and the
// 360 px check.
func TestBrowserSCIMTokens(t *testing.T) {
	ctx := newBrowser(t)
	env := uctest.New(t)
	base := consoleOver(t, env)
	signInAs(t, ctx, base, adminEmail)
	app := fmtID(env.App.SdkAppID)
	heading := "SCIM tokens of " + env.App.Name

	open(t, ctx, base, "/console/apps/"+app, "App "+env.App.Name)
	run(t, ctx, chromedp.Click(chromedp.CSS(`a[href="/console/apps/`+app+`/scim"]`)))
	waitHeading(t, ctx, heading)
	checkPage(t, ctx, "scim")
	run(t, ctx,
		chromedp.Click(chromedp.CSS(`input[name=permission][value="users.write"]`)),
		chromedp.Click(chromedp.CSS(`form[action="/console/apps/`+app+`/scim"] button[type=submit]`)),
	)
	waitFor(t, ctx, "code.secret")
	checkPage(t, ctx, "scim-token")
	token := text(t, ctx, "code.secret")
	tokenID := text(t, ctx, "dl.facts dd code")

	scim := func(method, path, body string) int {
		t.Helper()
		req, err := http.NewRequest(method, base+"/scim/v2/"+app+"/"+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/scim+json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := scim("GET", "Users", ""); got != http.StatusOK {
		t.Fatalf("GET /Users with the new token: %d", got)
	}
	if got := scim("POST", "Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"from.the.idp"}`); got != http.StatusCreated {
		t.Fatalf("POST /Users with the new token (users.write): %d", got)
	}

	open(t, ctx, base, "/console/apps/"+app+"/scim", heading)
	if page := mainText(t, ctx); strings.Contains(page, token) || !strings.Contains(page, tokenID) {
		t.Fatalf("the list shows the token again, or not its ID:\n%s", page)
	}
	run(t, ctx, chromedp.Click(chromedp.CSS(`button[aria-label="Revoke token `+tokenID+`"]`)))
	waitFor(t, ctx, `p.notice`)
	waitHeading(t, ctx, heading)
	if page := mainText(t, ctx); !strings.Contains(page, "The token is revoked") || !strings.Contains(page, "revoked 20") {
		t.Fatalf("after revoking:\n%s", page)
	}
	checkPage(t, ctx, "")
	if got := scim("GET", "Users", ""); got != http.StatusUnauthorized {
		t.Fatalf("GET /Users with the revoked token: %d, want 401", got)
	}
}
