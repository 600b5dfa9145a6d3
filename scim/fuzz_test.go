package scim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"usercenter/core"

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

// FuzzPatch sends whatever PATCH path, value and op, and whatever PATCH
// body, to a real user: the answer is never a 500, and a refusal is a
// SCIM error of status 400, 404, 409 or 412.
func FuzzPatch(f *testing.F) {
	for _, s := range []struct{ op, path, value, body string }{
		{"Replace", "active", `"False"`, ""},
		{"replace", "", `{"active":false,"displayName":"x","name":{"formatted":"y"}}`, ""},
		{"add", `emails[type eq "work"].value`, `"a@example.com"`, ""},
		{"remove", `phoneNumbers[type eq "mobile"]`, ``, ""},
		{"add", `addresses[type eq "work" and primary eq true].formatted`, `"1 Rue"`, ""},
		{"replace", `urn:usercenter:params:scim:schemas:extension:2.0:User:thirdPartyIds.qq`, `"1"`, ""},
		{"add", `urn:usercenter:params:scim:schemas:extension:2.0:User`, `{"logonMode":-1,"city":null}`, ""},
		{"remove", `emails[not (type eq "x") or value pr]`, ``, ""},
		{"replace", `name[`, `[]`, `{"Operations":[{"op":"add","value":[1]}]}`},
		{"replace", "externalId", `{"a":1}`, `{"schemas":[5]}`},
	} {
		f.Add(s.op, s.path, s.value, s.body)
	}
	env := uctest.New(f)
	// An app whose rate limit a fuzzing run does not reach.
	app, _ := env.NewApp(f, "fuzz", 100000)
	tok, err := env.Svc.CreateSCIMToken(bg, usercenter.Operator(), app.SdkAppID, []usercenter.Permission{usercenter.PermUsersWrite, usercenter.PermPIIRead})
	if err != nil {
		f.Fatal(err)
	}
	u, err := env.Svc.CreateUsers(bg, usercenter.Operator(), app.SdkAppID, []core.UserPatch{{OriginID: ptr("fuzzed")}})
	if err != nil {
		f.Fatal(err)
	}
	userURL := env.URL + "/scim/v2/" + fmtUint(app.SdkAppID) + "/Users/" + u[0].ID
	send := func(t *testing.T, body string) {
		req, err := http.NewRequest("PATCH", userURL, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed:
		default:
			t.Fatalf("PATCH %q: %d %s", body, resp.StatusCode, raw)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/scim+json" {
			t.Fatalf("PATCH %q: Content-Type %q", body, ct)
		}
	}
	f.Fuzz(func(t *testing.T, op, path, value, body string) {
		operation := map[string]any{"op": op}
		if path != "" {
			operation["path"] = path
		}
		if json.Valid([]byte(value)) {
			operation["value"] = json.RawMessage(value)
		} else if value != "" {
			operation["value"] = value
		}
		built, err := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []any{operation}})
		if err != nil {
			return
		}
		send(t, string(built))
		send(t, body)
	})
}

func ptr[T any](v T) *T { return &v }
