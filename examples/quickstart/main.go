// Command quickstart registers a user in usercenter with the official
// Tencent Cloud Go SDK, then reads the user back. It shows that the SDK
// needs nothing but its endpoint changed.
//
//	USERCENTER_SECRET_ID=AKID… USERCENTER_SECRET_KEY=… USERCENTER_SDK_APP_ID=14… \
//	  go run ./examples/quickstart
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run() error {
	endpoint := os.Getenv("USERCENTER_ENDPOINT")
	if endpoint == "" {
		endpoint = "127.0.0.1:8080"
	}
	sdkAppID, err := strconv.ParseUint(os.Getenv("USERCENTER_SDK_APP_ID"), 10, 64)
	if err != nil {
		return fmt.Errorf("set USERCENTER_SDK_APP_ID to the SdkAppId printed by `usercenter app create`")
	}
	cred := common.NewCredential(os.Getenv("USERCENTER_SECRET_ID"), os.Getenv("USERCENTER_SECRET_KEY"))

	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = endpoint // the only change from calling Tencent Cloud
	cpf.HttpProfile.Scheme = "HTTP"
	cpf.Language = "en-US" // the SDK asks for Chinese messages unless told
	client := common.NewCommonClient(cred, "", cpf)

	call := func(action string, params map[string]any) (string, error) {
		req := tchttp.NewCommonRequest("lcic", "2022-08-17", action)
		if err := req.SetActionParameters(params); err != nil {
			return "", err
		}
		resp := tchttp.NewCommonResponse()
		if err := client.Send(req, resp); err != nil {
			return "", err
		}
		return string(resp.GetBody()), nil
	}

	out, err := call("RegisterUser", map[string]any{"SdkAppId": sdkAppID, "Name": "Alice", "Avatar": "https://example.com/alice.png"})
	if err != nil {
		return err
	}
	fmt.Println("RegisterUser:", out)
	out, err = call("DescribeSdkAppIdUsers", map[string]any{"SdkAppId": sdkAppID, "Limit": 5})
	if err != nil {
		return err
	}
	fmt.Println("DescribeSdkAppIdUsers:", out)
	return nil
}
