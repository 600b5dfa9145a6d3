package scim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"usercenter"
	"usercenter/uctest"
)

// The request sequences of Microsoft Entra ID's and Okta's public SCIM
// documentation, replayed byte for byte from testdata/entra and
// testdata/okta (their README names the source of each file and the
// only change: the id a path names is the server's). Each answer is
// checked against what the same document says the provider reads.

// recorded is one request as a provider's document shows it: a request
// line, headers, a blank line and the body.
type recorded struct {
	method, target string
	header         http.Header
	body           string
}

// loadRecorded reads testdata/<name>, with "{id}" standing for the id of
// the user the server created.
func loadRecorded(t *testing.T, name, id string) recorded {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(raw), "{id}", id)
	head, body, _ := strings.Cut(text, "\n\n")
	lines := strings.Split(strings.TrimRight(head, "\n"), "\n")
	parts := strings.Fields(lines[0])
	if len(parts) < 2 {
		t.Fatalf("%s: no request line", name)
	}
	r := recorded{method: parts[0], header: http.Header{}, body: strings.TrimRight(body, "\n")}
	// Entra's examples spell the filter as text; a client sends its
	// spaces and quotes escaped, and nothing else differs. The target
	// itself is relative to the provider's configured base URL
	// (Okta's show that base as /scim/v2).
	target := parts[1:]
	if strings.HasPrefix(target[len(target)-1], "HTTP/") {
		target = target[:len(target)-1]
	}
	r.target = strings.ReplaceAll(strings.Join(target, "%20"), `"`, "%22")
	r.target = strings.TrimPrefix(r.target, "/scim/v2")
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("%s: not a header: %q", name, l)
		}
		r.header.Add(k, strings.TrimSpace(v))
	}
	return r
}

// replay sends a recorded request to c's app, bearing c's token where the
// document shows its placeholder for the credentials.
func (c *client) replay(name, id string) *answer {
	c.t.Helper()
	rec := loadRecorded(c.t, name, id)
	var body io.Reader
	if rec.body != "" {
		body = strings.NewReader(rec.body)
	}
	req, err := http.NewRequest(rec.method, c.env.URL+"/scim/v2/"+fmtUint(c.app)+rec.target, body)
	if err != nil {
		c.t.Fatalf("%s: %v", name, err)
	}
	for k, vs := range rec.header {
		req.Header[k] = vs
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	a := &answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 {
		// Entra: "The header for all the responses should be of
		// content-Type: application/scim+json".
		if ct := resp.Header.Get("Content-Type"); ct != "application/scim+json" {
			c.t.Errorf("%s: Content-Type %q", name, ct)
		}
		if err := json.Unmarshal(raw, &a.body); err != nil {
			c.t.Fatalf("%s: not a JSON object: %s", name, a)
		}
	}
	return a
}

// wantStatus fails unless the answer has one of the statuses a document
// allows.
func (a *answer) wantStatus(t *testing.T, step string, statuses ...int) *answer {
	t.Helper()
	for _, s := range statuses {
		if a.status == s {
			return a
		}
	}
	t.Fatalf("%s: status %d, want %v: %s", step, a.status, statuses, a.raw)
	return a
}

// wantField fails unless the member at path is want.
func (a *answer) wantField(t *testing.T, step, path string, want any) {
	t.Helper()
	if got := a.get(path); got != want {
		t.Errorf("%s: %s is %#v, want %#v: %s", step, path, got, want, a.raw)
	}
}

// resources is a ListResponse's Resources, failing unless it is a list:
// both documents show it present, [] when nothing matches.
func (a *answer) resources(t *testing.T, step string) []map[string]any {
	t.Helper()
	list, ok := a.get("Resources").([]any)
	if !ok {
		t.Fatalf("%s: no Resources list: %s", step, a.raw)
	}
	out := make([]map[string]any, len(list))
	for i, r := range list {
		if out[i], ok = r.(map[string]any); !ok {
			t.Fatalf("%s: a resource is not an object: %s", step, a.raw)
		}
	}
	return out
}

// firstEmail is the value of the first of a user's emails.
func (a *answer) firstEmail() any {
	emails, _ := a.get("emails").([]any)
	if len(emails) == 0 {
		return nil
	}
	e, _ := emails[0].(map[string]any)
	return e["value"]
}

// TestEntraReplay replays the "User operations" of Microsoft's "Tutorial:
// Develop and plan provisioning for a SCIM endpoint in Microsoft Entra
// ID" in the order Entra sends them for a user's life.
func TestEntraReplay(t *testing.T) {
	env := uctest.New(t)
	// Entra matches users on emails too, so its token reads them.
	c := newClient(t, env, env.App.SdkAppID, usercenter.PermUsersWrite, usercenter.PermPIIRead)
	const userName = "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"

	// Create User: 201 with the user, whose id Entra keeps.
	created := c.replay("entra/01-create-user.http", "").wantStatus(t, "create", http.StatusCreated)
	id := created.str("id")
	if id == "" {
		t.Fatalf("create: no id: %s", created)
	}
	created.wantField(t, "create", "userName", userName)
	created.wantField(t, "create", "externalId", "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef")
	created.wantField(t, "create", "name.formatted", "givenName familyName")
	created.wantField(t, "create", "active", true)
	// Entra asks that values be "stored in the same format they were
	// sent"; usercenter keeps an email in lower case (its blind index
	// finds it whatever the case), the one difference.
	if got, _ := created.firstEmail().(string); !strings.EqualFold(got, "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com") {
		t.Errorf("create: emails[0].value %q: %s", got, created)
	}

	// Get User: 200 with the user; an unknown id 404 in the error schema
	// ("The detail isn't required, only status").
	got := c.replay("entra/02-get-user.http", id).wantStatus(t, "get", http.StatusOK)
	got.wantField(t, "get", "id", id)
	got.wantField(t, "get", "userName", userName)
	c.replay("entra/03-get-user-not-found.http", "").wantError(t, http.StatusNotFound, "")

	// Get User by query: a ListResponse of the one user.
	found := c.replay("entra/04-get-user-by-query.http", "").wantStatus(t, "query", http.StatusOK)
	if res := found.resources(t, "query"); len(res) != 1 || res[0]["id"] != id || res[0]["userName"] != userName ||
		res[0]["externalId"] != "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef" {
		t.Errorf("query: %s", found)
	}
	found.wantField(t, "query", "totalResults", 1.0)

	// Get User by query - Zero results: 200, "totalResults": 0 and
	// "Resources": [], never 404.
	none := c.replay("entra/05-get-user-by-query-zero-results.http", "").wantStatus(t, "zero results", http.StatusOK)
	none.wantField(t, "zero results", "totalResults", 0.0)
	if res := none.resources(t, "zero results"); len(res) != 0 {
		t.Errorf("zero results: %s", none)
	}
	for _, a := range []*answer{found, none} {
		if s, _ := a.get("schemas").([]any); len(s) != 1 || s[0] != urnList {
			t.Errorf("query: not a ListResponse: %s", a)
		}
	}

	// Update User [Multi-valued properties]: "It isn't necessary to
	// include the entire resource in the PATCH response", so 200 or 204;
	// the user read back carries the new values.
	c.replay("entra/06-update-user-multi-valued.http", id).wantStatus(t, "update multi-valued", http.StatusOK, http.StatusNoContent)
	after := c.replay("entra/02-get-user.http", id).wantStatus(t, "get after update", http.StatusOK)
	if got, _ := after.firstEmail().(string); !strings.EqualFold(got, "updatedEmail@microsoft.com") {
		t.Errorf("update multi-valued: emails[0].value %v: %s", got, after)
	}
	// usercenter keeps name.formatted only (docs/scim.md): the
	// familyName Entra replaces is accepted and not kept, so the page's
	// "formatted": "givenName updatedFamilyName" cannot follow from it.
	after.wantField(t, "update multi-valued", "name.formatted", "givenName familyName")

	// Update User [Single-valued properties]: the new userName is the
	// user's, and a query finds the user by it.
	c.replay("entra/07-update-user-single-valued.http", id).wantStatus(t, "update single-valued", http.StatusOK, http.StatusNoContent)
	after = c.replay("entra/02-get-user.http", id).wantStatus(t, "get after rename", http.StatusOK)
	after.wantField(t, "update single-valued", "userName", "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com")
	renamed := c.do("GET", "Users?filter="+url.QueryEscape(`userName eq "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"`), "").want(t, http.StatusOK)
	if res := renamed.resources(t, "query by the new userName"); len(res) != 1 || res[0]["id"] != id {
		t.Errorf("query by the new userName: %s", renamed)
	}

	// Disable User: active false, and the user is still returned ("The
	// only time the user shouldn't be returned is when it's hard
	// deleted").
	c.replay("entra/08-disable-user.http", id).wantStatus(t, "disable", http.StatusOK, http.StatusNoContent)
	after = c.replay("entra/02-get-user.http", id).wantStatus(t, "get after disable", http.StatusOK)
	after.wantField(t, "disable", "active", false)

	// Delete User: 204, and the user is gone.
	if a := c.replay("entra/09-delete-user.http", id).wantStatus(t, "delete", http.StatusNoContent); a.raw != "" {
		t.Errorf("delete: a body: %s", a)
	}
	c.replay("entra/02-get-user.http", id).wantError(t, http.StatusNotFound, "")
}

// TestOktaReplay replays the user operations of Okta's "SCIM 2.0
// Protocol Reference" (Okta and SCIM Version 2.0) in the order Okta sends
// them: check, create, import, update by PUT, deactivate by PATCH.
func TestOktaReplay(t *testing.T) {
	env := uctest.New(t)
	c := newClient(t, env, env.App.SdkAppID, usercenter.PermUsersWrite, usercenter.PermPIIRead)
	const userName = "test.user@okta.local"

	// Determine if the User already exists: an empty ListResponse, its
	// numbers "exchanged as integers, not as strings".
	check := c.replay("okta/01-check-user-exists.http", "").wantStatus(t, "check", http.StatusOK)
	for path, want := range map[string]any{"totalResults": 0.0, "startIndex": 1.0, "itemsPerPage": 0.0} {
		check.wantField(t, "check", path, want)
	}
	if res := check.resources(t, "check"); len(res) != 0 {
		t.Errorf("check: %s", check)
	}

	// Create the User: 201 with the user ("Create new user returned
	// empty user" otherwise), whose id Okta keeps.
	created := c.replay("okta/02-create-user.http", "").wantStatus(t, "create", http.StatusCreated)
	id := created.str("id")
	if id == "" {
		t.Fatalf("create: no id: %s", created)
	}
	created.wantField(t, "create", "userName", userName)
	created.wantField(t, "create", "externalId", "00ujl29u0le5T6Aj10h7")
	created.wantField(t, "create", "displayName", "Test User")
	created.wantField(t, "create", "locale", "en-US")
	created.wantField(t, "create", "active", true)
	if got := created.firstEmail(); got != userName {
		t.Errorf("create: emails[0].value %v: %s", got, created)
	}

	// The same check now finds the user, by the id Okta kept.
	check = c.replay("okta/01-check-user-exists.http", "").wantStatus(t, "check again", http.StatusOK)
	check.wantField(t, "check again", "totalResults", 1.0)
	if res := check.resources(t, "check again"); len(res) != 1 || res[0]["id"] != id {
		t.Errorf("check again: %s", check)
	}

	// Creating a user that exists must answer an error that stops the
	// job: 409 in the error schema.
	c.replay("okta/02-create-user.http", "").wantError(t, http.StatusConflict, "uniqueness")

	// Retrieve a specific User.
	got := c.replay("okta/03-get-user.http", id).wantStatus(t, "get", http.StatusOK)
	got.wantField(t, "get", "id", id)
	got.wantField(t, "get", "userName", userName)

	// Retrieve Users: a page of 100 from startIndex 1, in integers.
	list := c.replay("okta/04-list-users.http", "").wantStatus(t, "list", http.StatusOK)
	list.wantField(t, "list", "totalResults", 1.0)
	list.wantField(t, "list", "startIndex", 1.0)
	list.wantField(t, "list", "itemsPerPage", 1.0)
	if res := list.resources(t, "list"); len(res) != 1 || res[0]["id"] != id {
		t.Errorf("list: %s", list)
	}

	// Update the User (PUT): "The response from the SCIM server needs to
	// be the updated User object".
	put := c.replay("okta/05-update-user-put.http", id).wantStatus(t, "put", http.StatusOK)
	put.wantField(t, "put", "id", id)
	put.wantField(t, "put", "userName", userName)
	put.wantField(t, "put", "active", true)
	if got := put.firstEmail(); got != userName {
		t.Errorf("put: emails[0].value %v: %s", got, put)
	}

	// Deactivate (PATCH, replace with no path and a partial object): the
	// updated user, or 204.
	if patch := c.replay("okta/06-deactivate-user-patch.http", id).wantStatus(t, "deactivate", http.StatusOK, http.StatusNoContent); patch.status == http.StatusOK {
		patch.wantField(t, "deactivate", "id", id)
		patch.wantField(t, "deactivate", "active", false)
	}
	got = c.replay("okta/03-get-user.http", id).wantStatus(t, "get after deactivate", http.StatusOK)
	got.wantField(t, "get after deactivate", "active", false)
}
