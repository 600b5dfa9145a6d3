package tcapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"usercenter/uctest"
)

// Action names come from the request, before it is authenticated. Only
// the names of real actions may become metric labels, or anyone could
// create time series without end.
func TestUnknownActionsDoNotBecomeLabels(t *testing.T) {
	env := uctest.New(t)
	for _, action := range []string{"JunkActionOne", "JunkActionTwo", "RegisterUser"} {
		req, _ := http.NewRequest(http.MethodPost, env.URL+"/", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-TC-Action", action)
		req.Header.Set("Authorization", "TC3-HMAC-SHA256 Credential=AKIDnotarealkey/2026-01-01/lcic/tc3_request, SignedHeaders=content-type;host, Signature="+strings.Repeat("0", 64))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	sdk := env.SDK(t, env.Key.SecretID, env.Key.SecretKey, uctest.SDKOptions{})
	if _, err := sdk.Call("JunkActionThree", map[string]any{}); uctest.Code(err) != "InvalidAction" {
		t.Fatalf("signed junk action: %v", err)
	}
	resp, err := http.Get(env.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(body), "JunkAction") {
		t.Fatal("an unknown action name became a metric label")
	}
	if !strings.Contains(string(body), `action="unknown"`) {
		t.Fatal(`refused requests are not counted under action="unknown"`)
	}
}
