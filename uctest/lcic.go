package uctest

import (
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"

	"usercenter/tcapi"
)

// Typed LCIC requests, written the way the SDK's generated models are: a
// *tchttp.BaseRequest and pointer fields tagged with json and name. The
// SDK serialises them as a JSON body (TC3 POST) or flattens them into
// "Key", "List.0.Field" parameters (GET and signature v1), so they exercise
// every encoding a real typed client uses. The typed lcic package itself is
// not available from the module proxy.

func newRequest(action string) *tchttp.BaseRequest {
	r := &tchttp.BaseRequest{}
	r.Init().WithApiInfo("lcic", tcapi.Version, action)
	return r
}

// P returns a pointer to v, for request fields.
func P[T any](v T) *T { return &v }

type RegisterUserRequest struct {
	*tchttp.BaseRequest
	SdkAppId *uint64 `json:"SdkAppId,omitnil,omitempty" name:"SdkAppId"`
	Name     *string `json:"Name,omitnil,omitempty" name:"Name"`
	OriginId *string `json:"OriginId,omitnil,omitempty" name:"OriginId"`
	Avatar   *string `json:"Avatar,omitnil,omitempty" name:"Avatar"`
}

func NewRegisterUser() *RegisterUserRequest {
	return &RegisterUserRequest{BaseRequest: newRequest("RegisterUser")}
}

type BatchUserRequest struct {
	SdkAppId *uint64 `json:"SdkAppId,omitnil,omitempty" name:"SdkAppId"`
	Name     *string `json:"Name,omitnil,omitempty" name:"Name"`
	OriginId *string `json:"OriginId,omitnil,omitempty" name:"OriginId"`
	Avatar   *string `json:"Avatar,omitnil,omitempty" name:"Avatar"`
}

type BatchRegisterRequest struct {
	*tchttp.BaseRequest
	Users []*BatchUserRequest `json:"Users,omitnil,omitempty" name:"Users"`
}

func NewBatchRegister() *BatchRegisterRequest {
	return &BatchRegisterRequest{BaseRequest: newRequest("BatchRegister")}
}

type LoginUserRequest struct {
	*tchttp.BaseRequest
	UserId *string `json:"UserId,omitnil,omitempty" name:"UserId"`
}

func NewLoginUser() *LoginUserRequest { return &LoginUserRequest{BaseRequest: newRequest("LoginUser")} }

type LoginOriginIdRequest struct {
	*tchttp.BaseRequest
	SdkAppId *uint64 `json:"SdkAppId,omitnil,omitempty" name:"SdkAppId"`
	OriginId *string `json:"OriginId,omitnil,omitempty" name:"OriginId"`
}

func NewLoginOriginId() *LoginOriginIdRequest {
	return &LoginOriginIdRequest{BaseRequest: newRequest("LoginOriginId")}
}

type DescribeUserRequest struct {
	*tchttp.BaseRequest
	UserId   *string `json:"UserId,omitnil,omitempty" name:"UserId"`
	OriginId *string `json:"OriginId,omitnil,omitempty" name:"OriginId"`
}

func NewDescribeUser() *DescribeUserRequest {
	return &DescribeUserRequest{BaseRequest: newRequest("DescribeUser")}
}

func NewDescribeUserDetail() *DescribeUserRequest {
	return &DescribeUserRequest{BaseRequest: newRequest("DescribeUserDetail")}
}

type ModifyUserProfileRequest struct {
	*tchttp.BaseRequest
	UserId   *string `json:"UserId,omitnil,omitempty" name:"UserId"`
	Nickname *string `json:"Nickname,omitnil,omitempty" name:"Nickname"`
	Avatar   *string `json:"Avatar,omitnil,omitempty" name:"Avatar"`
}

func NewModifyUserProfile() *ModifyUserProfileRequest {
	return &ModifyUserProfileRequest{BaseRequest: newRequest("ModifyUserProfile")}
}

type DeleteUserRequest struct {
	*tchttp.BaseRequest
	UserId *string `json:"UserId,omitnil,omitempty" name:"UserId"`
}

func NewDeleteUser() *DeleteUserRequest {
	return &DeleteUserRequest{BaseRequest: newRequest("DeleteUser")}
}

type DescribeSdkAppIdUsersRequest struct {
	*tchttp.BaseRequest
	SdkAppId *uint64 `json:"SdkAppId,omitnil,omitempty" name:"SdkAppId"`
	Page     *int64  `json:"Page,omitnil,omitempty" name:"Page"`
	Limit    *int64  `json:"Limit,omitnil,omitempty" name:"Limit"`
}

func NewDescribeSdkAppIdUsers() *DescribeSdkAppIdUsersRequest {
	return &DescribeSdkAppIdUsersRequest{BaseRequest: newRequest("DescribeSdkAppIdUsers")}
}
