package compat

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"usercenter"
	"usercenter/uctest"
)

// scimCase is one body for compat/node/scim-validate.mjs to judge.
type scimCase struct {
	Name string          `json:"name"`
	Kind string          `json:"kind"`
	Body json.RawMessage `json:"body"`
	// valid is what the validator must say.
	valid bool
}

type scimVerdict struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

// TestSCIMValidator checks the SCIM facade's answers against RFC 7643's
// schemas with SCIMMY (compat/node/scim-validate.mjs), a library the
// server does not use: Users with and without pii.read and with the
// usercenter extension, ListResponses, errors and the discovery
// endpoints, as the real server answers them. Broken copies of those
// answers are in the same run, and must be rejected: the validator is
// seen to fail.
func TestSCIMValidator(t *testing.T) {
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "scimmy")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("scimmy is not installed: run `npm ci` in %s", dir)
		}
		t.Skipf("scimmy is not installed: run `npm ci` in %s to include this test", dir)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is not on PATH")
		}
		t.Skip("node is not on PATH")
	}

	env := uctest.New(t)
	app := env.App.SdkAppID
	writer := scimToken(t, env, app, usercenter.PermUsersWrite, usercenter.PermPIIRead)
	reader := scimToken(t, env, app)
	base := env.URL + "/scim/v2/" + strconv.FormatUint(app, 10) + "/"

	created := scimCall(t, writer, "POST", base+"Users", `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:usercenter:params:scim:schemas:extension:2.0:User"],
		"userName": "alice@example.com", "externalId": "00u-alice", "name": {"formatted": "Alice Smith"},
		"displayName": "Alice Smith", "active": true,
		"preferredLanguage": "en-US", "timezone": "Europe/Paris",
		"emails": [{"value": "alice@example.com", "type": "work", "primary": true}],
		"phoneNumbers": [{"value": "+33612345678", "type": "mobile"}],
		"addresses": [{"formatted": "1 rue de Rivoli, Paris", "type": "work"}],
		"photos": [{"value": "https://example.com/alice.png"}],
		"urn:usercenter:params:scim:schemas:extension:2.0:User": {
			"city": "Paris", "sex": "F", "remark": "provisioned", "logonMode": 1,
			"thirdPartyIds": {"apple": "apple-alice"}
		}
	}`, http.StatusCreated)
	var user struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(created, &user); err != nil || user.ID == "" {
		t.Fatalf("create: %s", created)
	}
	plain := scimCall(t, writer, "POST", base+"Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob"}`, http.StatusCreated)
	filter := "Users?filter=" + url.QueryEscape(`userName eq "alice@example.com"`)

	patched := scimCall(t, writer, "PATCH", base+"Users/"+user.ID, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"alice@example.org"},{"op":"replace","value":{"active":false}}]}`, http.StatusOK)
	put := scimCall(t, writer, "PUT", base+"Users/"+user.ID, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":"alice@example.com","displayName":"Alice S.","active":true}`, http.StatusOK)
	schemas := scimCall(t, reader, "GET", base+"Schemas", "", http.StatusOK)
	cases := []scimCase{
		{Name: "User created, pii.read and the extension", Kind: "User", Body: created, valid: true},
		{Name: "User created with only userName", Kind: "User", Body: plain, valid: true},
		{Name: "User read with pii.read", Kind: "User", Body: scimCall(t, writer, "GET", base+"Users/"+user.ID, "", http.StatusOK), valid: true},
		{Name: "User read without pii.read", Kind: "User", Body: scimCall(t, reader, "GET", base+"Users/"+user.ID, "", http.StatusOK), valid: true},
		{Name: "User after PATCH", Kind: "User", Body: patched, valid: true},
		{Name: "User after PUT", Kind: "User", Body: put, valid: true},
		{Name: "User read with attributes=userName", Kind: "User", Body: scimCall(t, reader, "GET", base+"Users/"+user.ID+"?attributes=userName", "", http.StatusOK), valid: true},
		{Name: "ListResponse of a filter, pii.read", Kind: "UserList", Body: scimCall(t, writer, "GET", base+filter, "", http.StatusOK), valid: true},
		{Name: "ListResponse of every user, no pii.read", Kind: "UserList", Body: scimCall(t, reader, "GET", base+"Users?startIndex=1&count=100", "", http.StatusOK), valid: true},
		{Name: "ListResponse of nobody", Kind: "UserList", Body: scimCall(t, reader, "GET", base+"Users?filter="+url.QueryEscape(`userName eq "nobody"`), "", http.StatusOK), valid: true},
		{Name: "ListResponse of .search", Kind: "UserList", Body: scimCall(t, reader, "POST", base+"Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"count":1}`, http.StatusOK), valid: true},
		{Name: "Error 404", Kind: "Error", Body: scimCall(t, reader, "GET", base+"Users/nosuchuser", "", http.StatusNotFound), valid: true},
		{Name: "Error 400 invalidFilter", Kind: "Error", Body: scimCall(t, reader, "GET", base+"Users?filter="+url.QueryEscape(`title co "x"`), "", http.StatusBadRequest), valid: true},
		{Name: "Error 409 uniqueness", Kind: "Error", Body: scimCall(t, writer, "POST", base+"Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob"}`, http.StatusConflict), valid: true},
		{Name: "Error 400 invalidValue", Kind: "Error", Body: scimCall(t, writer, "POST", base+"Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]}`, http.StatusBadRequest), valid: true},
		{Name: "Error 401", Kind: "Error", Body: scimCall(t, "not-a-token", "GET", base+"Users", "", http.StatusUnauthorized), valid: true},
		{Name: "ServiceProviderConfig", Kind: "ServiceProviderConfig", Body: scimCall(t, reader, "GET", base+"ServiceProviderConfig", "", http.StatusOK), valid: true},
		{Name: "ResourceTypes", Kind: "ResourceTypes", Body: scimCall(t, reader, "GET", base+"ResourceTypes", "", http.StatusOK), valid: true},
		{Name: "Schemas", Kind: "Schemas", Body: schemas, valid: true},
	}
	// Copies of real answers, each edited: broken in one way RFC 7643 or
	// 7644 forbids ("broken: …"), or grown as a later RFC allows.
	broken := func(name, kind string, from json.RawMessage, edit func(map[string]any)) scimCase {
		var m map[string]any
		if err := json.Unmarshal(from, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		// The case holds no broken value if its name does not say so.
		return scimCase{Name: name, Kind: kind, Body: b, valid: !strings.HasPrefix(name, "broken: ")}
	}
	ext := "urn:usercenter:params:scim:schemas:extension:2.0:User"
	answered := func(name string) json.RawMessage {
		for _, c := range cases {
			if c.Name == name {
				return c.Body
			}
		}
		t.Fatalf("no case %q", name)
		return nil
	}
	cases = append(cases,
		broken("broken: active as a string", "User", created, func(m map[string]any) { m["active"] = "True" }),
		broken("broken: no userName", "User", created, func(m map[string]any) { delete(m, "userName") }),
		broken("broken: emails not a list", "User", created, func(m map[string]any) { m["emails"] = map[string]any{"value": "alice@example.com"} }),
		broken("broken: meta.created not a dateTime", "User", created, func(m map[string]any) { m["meta"].(map[string]any)["created"] = "yesterday" }),
		broken("broken: an attribute no schema has", "User", created, func(m map[string]any) { m["shoeSize"] = 42.0 }),
		broken("broken: the extension's logonMode a string", "User", created, func(m map[string]any) { m[ext].(map[string]any)["logonMode"] = "1" }),
		broken("broken: the extension without its URN in schemas", "User", created, func(m map[string]any) {
			m["schemas"] = []string{"urn:ietf:params:scim:schemas:core:2.0:User"}
		}),
		broken("broken: totalResults a string", "UserList", answered("ListResponse of a filter, pii.read"), func(m map[string]any) { m["totalResults"] = "1" }),
		broken("broken: itemsPerPage not the count", "UserList", answered("ListResponse of a filter, pii.read"), func(m map[string]any) { m["itemsPerPage"] = 20.0 }),
		broken("broken: a listed user with a numeric userName", "UserList", answered("ListResponse of a filter, pii.read"), func(m map[string]any) {
			m["Resources"].([]any)[0].(map[string]any)["userName"] = 7.0
		}),
		broken("broken: status a number", "Error", answered("Error 409 uniqueness"), func(m map[string]any) { m["status"] = 409.0 }),
		broken("broken: uniqueness with 400", "Error", answered("Error 409 uniqueness"), func(m map[string]any) { m["status"] = "400" }),
		broken("broken: a scimType RFC 7644 lacks", "Error", answered("Error 400 invalidFilter"), func(m map[string]any) { m["scimType"] = "badFilter" }),
		// RFC 9865's addition, as the cursor paging work declares it.
		broken("ServiceProviderConfig with RFC 9865's pagination", "ServiceProviderConfig", answered("ServiceProviderConfig"), func(m map[string]any) {
			m["pagination"] = map[string]any{"cursor": true, "index": true, "defaultPaginationMethod": "index", "defaultPageSize": 100.0, "maxPageSize": 100.0, "cursorTimeout": 600.0}
		}),
		broken("broken: pagination.cursor a string", "ServiceProviderConfig", answered("ServiceProviderConfig"), func(m map[string]any) {
			m["pagination"] = map[string]any{"cursor": "yes", "index": true}
		}),
		broken("broken: patch.supported a string", "ServiceProviderConfig", answered("ServiceProviderConfig"), func(m map[string]any) { m["patch"] = map[string]any{"supported": "no"} }),
		broken("broken: a ResourceType without endpoint", "ResourceTypes", answered("ResourceTypes"), func(m map[string]any) {
			delete(m["Resources"].([]any)[0].(map[string]any), "endpoint")
		}),
		broken("broken: userName described as an integer", "Schemas", schemas, func(m map[string]any) {
			for _, r := range m["Resources"].([]any) {
				if r.(map[string]any)["id"] == "urn:ietf:params:scim:schemas:core:2.0:User" {
					r.(map[string]any)["attributes"].([]any)[0].(map[string]any)["type"] = "integer"
				}
			}
		}),
	)

	in, err := json.Marshal(map[string]any{"schemas": schemas, "cases": cases})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "scim-validate.mjs")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node scim-validate.mjs: %v\n%s", err, stderr.String())
	}
	var verdicts []scimVerdict
	if err := json.Unmarshal(out, &verdicts); err != nil || len(verdicts) != len(cases) {
		t.Fatalf("the validator answered %d verdicts for %d cases (%v): %s", len(verdicts), len(cases), err, out)
	}
	for i, v := range verdicts {
		c := cases[i]
		switch {
		case v.Name != c.Name:
			t.Errorf("verdict %d is for %q, not %q", i, v.Name, c.Name)
		case c.valid && !v.OK:
			t.Errorf("%s: rejected by SCIMMY: %s\n%s", c.Name, v.Error, c.Body)
		case !c.valid && v.OK:
			t.Errorf("%s: accepted by SCIMMY, which must reject it\n%s", c.Name, c.Body)
		case !c.valid:
			t.Logf("%s: rejected, as it must be: %s", c.Name, v.Error)
		}
	}
}

// scimToken makes a SCIM token of app with perms.
func scimToken(t *testing.T, env *uctest.Env, app uint64, perms ...usercenter.Permission) string {
	t.Helper()
	tok, err := env.Svc.CreateSCIMToken(t.Context(), usercenter.Operator(), app, perms)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

// scimCall sends one SCIM request and returns the body of an answer of
// status, as application/scim+json.
func scimCall(t *testing.T, token, method, url, body string, status int) json.RawMessage {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
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
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status || resp.Header.Get("Content-Type") != "application/scim+json" {
		t.Fatalf("%s %s: %d %s, want %d application/scim+json: %s", method, url, resp.StatusCode, resp.Header.Get("Content-Type"), status, raw)
	}
	return raw
}
