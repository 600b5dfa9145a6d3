package restapi_test

import (
	"net/http"
	"testing"

	"usercenter"
	"usercenter/uctest"
)

func TestSubjectExportAndErase(t *testing.T) {
	env := uctest.New(t)
	app := env.App.SdkAppID
	u := createUser(t, env, env.Key, app, `{"originId":"ann","phone":"+8613612346688","email":"ann@example.com","thirdPartyIds":{"qq":"qq-ann"}}`)
	kept := createUser(t, env, env.Key, app, `{"originId":"bob"}`)
	reader := env.NewKey(t, []uint64{app}, usercenter.PermUsersRead)

	// Without pii.read: forbidden, and nothing disclosed.
	scenario{Name: "no pii.read", request: request{Method: "GET", Path: "/v1/users/" + u.UserID + "/subject-export", Auth: basic(reader)},
		Status: http.StatusForbidden, Code: "forbidden", NotContains: []string{"+8613612346688"}}.run(t, env)

	var x struct {
		User        userJSON     `json:"user"`
		AuditEvents []auditEvent `json:"auditEvents"`
		LiveTokens  int          `json:"liveTokens"`
		ExportedAt  string       `json:"exportedAt"`
	}
	res := scenario{Name: "export", request: request{Method: "GET", Path: "/v1/users/" + u.UserID + "/subject-export", Auth: basic(env.Key)}, Status: http.StatusOK}.run(t, env)
	res.Decode(t, &x)
	if x.User.Phone != "+8613612346688" || x.User.Email != "ann@example.com" || x.User.ThirdPartyIDs["qq"] != "qq-ann" || x.ExportedAt == "" {
		t.Fatalf("subject export = %+v", x)
	}
	reveals := 0
	for _, e := range x.AuditEvents {
		if e.UserID != u.UserID {
			t.Fatalf("another user's event in the export: %+v", e)
		}
		if e.Action == "reveal" {
			reveals++
		}
	}
	if reveals != 2 || len(x.AuditEvents) != 3 {
		t.Fatalf("exported events %+v; want create and 2 reveals", x.AuditEvents)
	}
	if got := auditOf(t, env, env.Key, "userId="+u.UserID+"&action=reveal"); len(got) != 2 {
		t.Fatalf("export audited %d reveals, want 2", len(got))
	}

	// Erase: users.write, no body.
	scenario{Name: "erase without users.write", request: request{Method: "POST", Path: "/v1/users/" + u.UserID + ":erase", Auth: basic(reader)},
		Status: http.StatusForbidden, Code: "forbidden"}.run(t, env)
	// Another verb is no route: the path is a user's, which POST is not for.
	scenario{Name: "unknown verb", request: request{Method: "POST", Path: "/v1/users/" + u.UserID + ":forget", Auth: basic(env.Key)},
		Status: http.StatusMethodNotAllowed, Code: "method_not_allowed"}.run(t, env)
	res = scenario{Name: "erase", request: request{Method: "POST", Path: "/v1/users/" + u.UserID + ":erase", Auth: basic(env.Key)},
		Status: http.StatusOK, Contains: []string{`"erasedAuditEvents":3`}}.run(t, env)
	scenario{Name: "gone", request: request{Method: "GET", Path: "/v1/users/" + u.UserID, Auth: basic(env.Key)},
		Status: http.StatusNotFound, Code: "user_not_found"}.run(t, env)
	scenario{Name: "erase again", request: request{Method: "POST", Path: "/v1/users/" + u.UserID + ":erase", Auth: basic(env.Key)},
		Status: http.StatusNotFound, Code: "user_not_found"}.run(t, env)
	if got := auditOf(t, env, env.Key, "userId="+u.UserID); len(got) != 0 {
		t.Fatalf("events still name the erased user: %+v", got)
	}
	tombs := auditOf(t, env, env.Key, "userId="+usercenter.ErasedUserID)
	// Newest first: the erasure, then the events it turned into tombstones.
	if len(tombs) != 4 || tombs[0].Action != "erase" || tombs[0].SdkAppID != app {
		t.Fatalf("tombstones %+v; want the 3 events and the erasure", tombs)
	}
	if got := auditOf(t, env, env.Key, "action=erase"); len(got) != 1 {
		t.Fatalf("filter by action erase: %+v", got)
	}
	if got := auditOf(t, env, env.Key, "userId="+kept.UserID); len(got) != 1 {
		t.Fatalf("another user's events changed: %+v", got)
	}
}
