package uctest

import (
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"usercenter/tcapi"
)

// Signing modes of the official Go SDK.
const (
	TC3        = "TC3-HMAC-SHA256"
	HmacSHA256 = "HmacSHA256"
	HmacSHA1   = "HmacSHA1"
)

// SDK is the official Tencent Cloud Go SDK's client, pointed at the
// instance exactly as a user would point it.
type SDK struct {
	client *common.Client
}

// SDKOptions tune the client.
type SDKOptions struct {
	SignMethod string // TC3 (default), HmacSHA256 or HmacSHA1
	Method     string // POST (default) or GET
	Language   string // en-US (default) or zh-CN
}

// SDK returns a client signing with secretID/secretKey.
func (e *Env) SDK(t testing.TB, secretID, secretKey string, o SDKOptions) *SDK {
	t.Helper()
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = e.Host
	cpf.HttpProfile.Scheme = "HTTP"
	if o.Method != "" {
		cpf.HttpProfile.ReqMethod = o.Method
	}
	if o.SignMethod != "" {
		cpf.SignMethod = o.SignMethod
	}
	cpf.Language = "en-US"
	if o.Language != "" {
		cpf.Language = o.Language
	}
	return &SDK{client: common.NewCommonClient(common.NewCredential(secretID, secretKey), "", cpf)}
}

// Send runs a typed LCIC request (see lcic.go) and returns the raw JSON
// body. An API error comes back as *tcerr.TencentCloudSDKError.
func (s *SDK) Send(req tchttp.Request) ([]byte, error) {
	resp := tchttp.NewCommonResponse()
	if err := s.client.Send(req, resp); err != nil {
		return nil, err
	}
	return resp.GetBody(), nil
}

// Call runs an action through the SDK's generic CommonRequest, which sends
// a JSON body (TC3 POST only: in v1 and GET modes the SDK drops the
// parameters of a CommonRequest, so use the typed requests there).
func (s *SDK) Call(action string, params map[string]any) ([]byte, error) {
	req := tchttp.NewCommonRequest("lcic", tcapi.Version, action)
	if err := req.SetActionParameters(params); err != nil {
		return nil, err
	}
	return s.Send(req)
}

// Code returns the API error code of err, or "" when err is not an API error.
func Code(err error) string {
	if e, ok := err.(*tcerr.TencentCloudSDKError); ok {
		return e.GetCode()
	}
	return ""
}
