package scim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"usercenter"
	"usercenter/uctest"
)

var bg = context.Background()

// The SCIM URNs, spelled out here rather than taken from the package.
const (
	urnUser  = "urn:ietf:params:scim:schemas:core:2.0:User"
	urnError = "urn:ietf:params:scim:api:messages:2.0:Error"
	urnList  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	urnExt   = "urn:usercenter:params:scim:schemas:extension:2.0:User"
)

// client calls one app's SCIM endpoint with one token.
type client struct {
	t     *testing.T
	env   *uctest.Env
	app   uint64
	token string
}

// newClient makes a SCIM token for app with perms and a client bearing it.
func newClient(t *testing.T, env *uctest.Env, app uint64, perms ...usercenter.Permission) *client {
	t.Helper()
	tok, err := env.Svc.CreateSCIMToken(bg, usercenter.Operator(), app, perms)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, env: env, app: app, token: tok.Token}
}

// answer is a response, its body decoded as a JSON object.
type answer struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func (a *answer) String() string { return strconv.Itoa(a.status) + " " + a.raw }

// do sends a request to path below the app's endpoint ("Users", …).
func (c *client) do(method, path, body string) *answer {
	c.t.Helper()
	return c.doURL(method, c.env.URL+"/scim/v2/"+strconv.FormatUint(c.app, 10)+"/"+path, body, "application/scim+json")
}

func (c *client) doURL(method, url, body, contentType string) *answer {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != "" && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
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
	if resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented && resp.StatusCode != http.StatusServiceUnavailable {
		c.t.Errorf("%s %s: %s", method, url, a)
	}
	if len(raw) > 0 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/scim+json" {
			c.t.Errorf("%s %s: Content-Type %q", method, url, ct)
		}
		if err := json.Unmarshal(raw, &a.body); err != nil {
			c.t.Fatalf("%s %s: not a JSON object: %s", method, url, a)
		}
	}
	return a
}

// want fails the test unless the answer has status.
func (a *answer) want(t *testing.T, status int) *answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.raw)
	}
	return a
}

// wantError checks a SCIM error answer: its status, in the body as a
// string too, and its scimType ("" for none).
func (a *answer) wantError(t *testing.T, status int, scimType string) {
	t.Helper()
	a.want(t, status)
	schemas, _ := a.body["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != urnError || a.body["status"] != strconv.Itoa(status) {
		t.Errorf("not a SCIM error of status %d: %s", status, a.raw)
	}
	if got, _ := a.body["scimType"].(string); got != scimType {
		t.Errorf("scimType %q, want %q: %s", got, scimType, a.raw)
	}
	if d, _ := a.body["detail"].(string); d == "" {
		t.Errorf("no detail: %s", a.raw)
	}
}

// str reads a string member at a dotted path of the body.
func (a *answer) str(path string) string {
	v, _ := a.get(path).(string)
	return v
}

func (a *answer) get(path string) any {
	var v any = a.body
	if rest, ok := strings.CutPrefix(path, urnExt+"."); ok {
		// The extension's URN has dots of its own.
		v, path = a.body[urnExt], rest
	}
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// createUser posts a user and returns its id.
func (c *client) createUser(body string) string {
	c.t.Helper()
	a := c.do("POST", "Users", body).want(c.t, http.StatusCreated)
	return a.str("id")
}

func userBody(userName string, extra string) string {
	s := `{"schemas":["` + urnUser + `"],"userName":"` + userName + `"`
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

func fmtUint(v uint64) string { return strconv.FormatUint(v, 10) }
