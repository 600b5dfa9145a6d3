package tcapi_test

import (
	"encoding/json"
	"testing"

	"usercenter/uctest"
)

func TestSmokeRegisterDescribe(t *testing.T) {
	env := uctest.New(t)
	for _, o := range []uctest.SDKOptions{{SignMethod: uctest.TC3}, {SignMethod: uctest.TC3, Method: "GET"}, {SignMethod: uctest.HmacSHA256}, {SignMethod: uctest.HmacSHA1, Method: "GET"}} {
		sdk := env.SDK(t, env.Key.SecretID, env.Key.SecretKey, o)
		req := uctest.NewRegisterUser()
		req.SdkAppId, req.Name, req.OriginId = uctest.P(env.App.SdkAppID), uctest.P("alice & bob = ok?"), uctest.P("o-"+o.SignMethod+o.Method)
		body, err := sdk.Send(req)
		if err != nil {
			t.Fatalf("%v: %v", o, err)
		}
		var reg struct {
			Response struct{ UserId, Token, RequestId string }
		}
		json.Unmarshal(body, &reg)
		if len(reg.Response.UserId) != 27 || len(reg.Response.Token) != 62 {
			t.Fatalf("%v: %s", o, body)
		}
		d := uctest.NewDescribeUser()
		d.UserId = uctest.P(reg.Response.UserId)
		body, err = sdk.Send(d)
		if err != nil {
			t.Fatalf("%v: %v", o, err)
		}
		t.Logf("%v: %s", o, body)
	}
}
