package restapi_test

import (
	"net/http"
	"strings"
	"testing"

	"usercenter"
	"usercenter/uctest"
)

type webhookJSON struct {
	ID       string   `json:"id"`
	SdkAppID uint64   `json:"sdkAppId"`
	URL      string   `json:"url"`
	Events   []string `json:"events"`
	Secret   string   `json:"secret"`
	Status   string   `json:"status"`
	Cursor   int64    `json:"cursor"`
}

// TestWebhookRoutes: the /v1 webhook routes, their answers and errors.
func TestWebhookRoutes(t *testing.T) {
	env := uctest.New(t)
	auth := basic(env.Key)
	base := "/v1/apps/" + itoa(env.App.SdkAppID) + "/webhooks"

	var created webhookJSON
	res := scenario{Name: "create", request: request{Method: "POST", Path: base, Auth: auth, Body: `{"url":"https://hooks.example/in?t=1","events":["user.*","pii.disclosed"]}`},
		Status: http.StatusCreated, Contains: []string{`"secret":"whsec_`, `"status":"ok"`}}.run(t, env)
	res.Decode(t, &created)
	if res.Header.Get("Location") != base+"/"+created.ID || !strings.HasPrefix(created.ID, "wh_") {
		t.Fatalf("Location %q for %+v", res.Header.Get("Location"), created)
	}
	one := base + "/" + created.ID
	for _, s := range []scenario{
		{Name: "list", request: request{Method: "GET", Path: base, Auth: auth}, Status: 200, Contains: []string{`"webhooks":[`, created.ID}, NotContains: []string{created.Secret}},
		{Name: "get", request: request{Method: "GET", Path: one, Auth: auth}, Status: 200, Contains: []string{`"url":"https://hooks.example/in?t=1"`, `"events":["user.*","pii.disclosed"]`}, NotContains: []string{created.Secret, `"secret"`}},
		{Name: "patch", request: request{Method: "PATCH", Path: one, Auth: auth, Body: `{"events":["*"]}`}, Status: 200, Contains: []string{`"events":["*"]`}},
		{Name: "replay", request: request{Method: "POST", Path: one + ":replay", Auth: auth, Body: `{"since":"2020-01-01T00:00:00Z"}`}, Status: 200, Contains: []string{`"cursor":`}},
		{Name: "deliveries", request: request{Method: "GET", Path: one + "/deliveries?limit=5", Auth: auth}, Status: 200, Contains: []string{`"deliveries":[]`}},
		{Name: "test without a sender", request: request{Method: "POST", Path: one + ":test", Auth: auth}, Status: 503, Code: "unavailable"},

		{Name: "unknown type", request: request{Method: "POST", Path: base, Auth: auth, Body: `{"url":"https://h.example/","events":["user.creatd"]}`}, Status: 400, Code: "invalid_field", Field: "events", Contains: []string{"user.creatd", "user.created"}},
		{Name: "ftp", request: request{Method: "POST", Path: base, Auth: auth, Body: `{"url":"ftp://h.example/","events":["*"]}`}, Status: 400, Code: "invalid_field", Field: "url"},
		{Name: "no events", request: request{Method: "POST", Path: base, Auth: auth, Body: `{"url":"https://h.example/"}`}, Status: 400, Code: "invalid_field", Field: "events"},
		{Name: "events not an array", request: request{Method: "POST", Path: base, Auth: auth, Body: `{"url":"https://h.example/","events":"user.*"}`}, Status: 400, Code: "invalid_type", Field: "events"},
		{Name: "unknown member", request: request{Method: "PATCH", Path: one, Auth: auth, Body: `{"secret":"x"}`}, Status: 400, Code: "unknown_field", Field: "secret"},
		{Name: "replay without since", request: request{Method: "POST", Path: one + ":replay", Auth: auth, Body: `{}`}, Status: 400, Code: "invalid_field", Field: "since"},
		{Name: "replay bad since", request: request{Method: "POST", Path: one + ":replay", Auth: auth, Body: `{"since":"yesterday"}`}, Status: 400, Code: "invalid_field", Field: "since"},
		{Name: "limit too big", request: request{Method: "GET", Path: one + "/deliveries?limit=101", Auth: auth}, Status: 400, Code: "invalid_field", Field: "limit"},
		{Name: "unknown verb", request: request{Method: "POST", Path: one + ":explode", Auth: auth}, Status: 405, Code: "method_not_allowed"},
		{Name: "unknown endpoint", request: request{Method: "GET", Path: base + "/wh_nope", Auth: auth}, Status: 404, Code: "webhook_not_found"},
	} {
		t.Run(s.Name, func(t *testing.T) { s.run(t, env) })
	}

	// Permission and scope.
	appB, keyB := env.NewApp(t, "other", 1000)
	noManage := env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersRead, usercenter.PermUsersWrite, usercenter.PermPIIRead)
	scenario{Name: "no webhooks.manage", request: request{Method: "GET", Path: base, Auth: basic(noManage)}, Status: 403, Code: "forbidden"}.run(t, env)
	scenario{Name: "another app's key", request: request{Method: "GET", Path: one, Auth: basic(keyB)}, Status: 404, Code: "webhook_not_found"}.run(t, env)
	scenario{Name: "another app's list", request: request{Method: "GET", Path: base, Auth: basic(keyB)}, Status: 403, Code: "forbidden"}.run(t, env)
	otherBase := "/v1/apps/" + itoa(appB.SdkAppID) + "/webhooks/" + created.ID
	scenario{Name: "through another app's path", request: request{Method: "DELETE", Path: otherBase, Auth: basic(keyB)}, Status: 404, Code: "webhook_not_found"}.run(t, env)

	scenario{Name: "delete", request: request{Method: "DELETE", Path: one, Auth: auth}, Status: 204}.run(t, env)
	scenario{Name: "gone", request: request{Method: "GET", Path: one, Auth: auth}, Status: 404, Code: "webhook_not_found"}.run(t, env)
	audits := auditOf(t, env, env.Key, "sdkAppId="+itoa(env.App.SdkAppID)+"&order=oldest")
	var actions []string
	for _, e := range audits {
		if strings.HasPrefix(e.Action, "webhook.") {
			if e.Actor != "key:"+env.Key.SecretID || e.Field != created.ID {
				t.Errorf("audit %+v", e)
			}
			actions = append(actions, e.Action)
		}
	}
	if strings.Join(actions, " ") != "webhook.create webhook.update webhook.replay webhook.delete" {
		t.Fatalf("audited %v", actions)
	}
}
