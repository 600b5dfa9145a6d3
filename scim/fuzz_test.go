package scim_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"usercenter"
	"usercenter/uctest"
)

// FuzzRequests sends whatever body, filter and attribute lists to the
// real handler: the answer is never a 500, always SCIM's media type.
func FuzzRequests(f *testing.F) {
	for _, s := range []struct{ body, filter, attrs string }{
		{userBody("a", ""), `userName eq "a"`, "userName"},
		{`{"userName":"b","active":"False","emails":[{"value":"b@x.io","primary":"true"}]}`, `emails.value eq "b@x.io"`, "emails.value"},
		{`{"userName":"c","phoneNumbers":[{"value":"12"}],"photos":[{"value":"ftp://x"}]}`, `id eq "x" and active eq false`, "urn:usercenter:params:scim:schemas:extension:2.0:User:city"},
		{`{"userName":"d","urn:usercenter:params:scim:schemas:extension:2.0:User":{"thirdPartyIds":{"nobody":"1"},"logonMode":-5}}`, `(`, ","},
		{`[1,2]`, `title pr`, "meta.created,,"},
		{`{"userName":"\u0000"}`, `userName eq "\u0000"`, "."},
	} {
		f.Add(s.body, s.filter, s.attrs)
	}
	env := uctest.New(f)
	tok, err := env.Svc.CreateSCIMToken(bg, usercenter.Operator(), env.App.SdkAppID, []usercenter.Permission{usercenter.PermUsersWrite, usercenter.PermPIIRead})
	if err != nil {
		f.Fatal(err)
	}
	base := env.URL + "/scim/v2/" + fmtUint(env.App.SdkAppID) + "/"
	send := func(t *testing.T, method, u, body string) {
		req, err := http.NewRequest(method, u, strings.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented {
			t.Fatalf("%s %s %q: %d", method, u, body, resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusNoContent && ct != "application/scim+json" {
			t.Fatalf("%s %s: Content-Type %q", method, u, ct)
		}
	}
	f.Fuzz(func(t *testing.T, body, filter, attrs string) {
		q := url.Values{"filter": {filter}, "attributes": {attrs}}.Encode()
		send(t, "POST", base+"Users?"+q, body)
		send(t, "GET", base+"Users?"+q, "")
		send(t, "POST", base+"Users/.search", body)
		send(t, "GET", base+"Users/"+url.PathEscape(filter)+"?excludedAttributes="+url.QueryEscape(attrs), "")
	})
}
