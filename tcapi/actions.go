package tcapi

import (
	"context"

	"usercenter"
	"usercenter/core"
)

// Version is the only LCIC API version served.
const Version = "2022-08-17"

// action is one API action: how to make its request struct and run it.
type action struct {
	newRequest func() any
	run        func(ctx context.Context, svc *core.Service, actor *usercenter.Actor, req any) (response, error)
}

// response is an action's result; the handler stamps the RequestId.
type response interface{ setRequestID(string) }

// requestID is embedded in every response so RequestId sits beside the
// action's own fields, as the SDKs expect.
type requestID struct {
	RequestId string `json:"RequestId"`
}

func (r *requestID) setRequestID(id string) { r.RequestId = id }

// def adapts a typed action function to the action table.
func def[Req any, Resp response](run func(context.Context, *core.Service, *usercenter.Actor, *Req) (Resp, error)) action {
	return action{
		newRequest: func() any { return new(Req) },
		run: func(ctx context.Context, svc *core.Service, actor *usercenter.Actor, req any) (response, error) {
			return run(ctx, svc, actor, req.(*Req))
		},
	}
}

// actions lists every LCIC user action, with fields exactly as
// tencentcloud-sdk-go's lcic/v20220817 models name them.
var actions = map[string]action{
	"RegisterUser":          def(registerUser),
	"BatchRegister":         def(batchRegister),
	"LoginUser":             def(loginUser),
	"LoginOriginId":         def(loginOriginID),
	"DescribeUser":          def(describeUser),
	"DescribeUserDetail":    def(describeUserDetail),
	"ModifyUserProfile":     def(modifyUserProfile),
	"DeleteUser":            def(deleteUser),
	"DescribeSdkAppIdUsers": def(describeSdkAppIDUsers),
}

// UserInfo is LCIC's user object.
type UserInfo struct {
	SdkAppId uint64 `json:"SdkAppId"`
	UserId   string `json:"UserId"`
	Name     string `json:"Name"`
	Avatar   string `json:"Avatar"`
	OriginId string `json:"OriginId"`
}

func userInfo(u *usercenter.User) UserInfo {
	return UserInfo{SdkAppId: u.SdkAppID, UserId: u.ID, Name: u.Nickname, Avatar: u.Avatar, OriginId: u.OriginID}
}

type registerUserRequest struct {
	SdkAppId uint64 `tc:"SdkAppId,required"`
	Name     string `tc:"Name"`
	OriginId string `tc:"OriginId"`
	Avatar   string `tc:"Avatar"`
}

type sessionResponse struct {
	UserId string `json:"UserId"`
	Token  string `json:"Token"`
	requestID
}

func registerUser(ctx context.Context, svc *core.Service, actor *usercenter.Actor, req *registerUserRequest) (*sessionResponse, error) {
	s, err := svc.RegisterUser(ctx, actor, core.Registration{SdkAppID: req.SdkAppId, Name: req.Name, OriginID: req.OriginId, Avatar: req.Avatar})
	if err != nil {
		return nil, err
	}
	return &sessionResponse{UserId: s.User.ID, Token: s.Token}, nil
}

type batchRegisterRequest struct {
	Users []struct {
		SdkAppId uint64 `tc:"SdkAppId,required"`
		Name     string `tc:"Name"`
		OriginId string `tc:"OriginId"`
		Avatar   string `tc:"Avatar"`
	} `tc:"Users,required"`
}

type batchUserInfo struct {
	SdkAppId uint64 `json:"SdkAppId"`
	UserId   string `json:"UserId"`
	OriginId string `json:"OriginId"`
}

type batchRegisterResponse struct {
	Users []batchUserInfo `json:"Users"`
	requestID
}

func batchRegister(ctx context.Context, svc *core.Service, actor *usercenter.Actor, req *batchRegisterRequest) (*batchRegisterResponse, error) {
	regs := make([]core.Registration, len(req.Users))
	for i, u := range req.Users {
		regs[i] = core.Registration{SdkAppID: u.SdkAppId, Name: u.Name, OriginID: u.OriginId, Avatar: u.Avatar}
	}
	users, err := svc.BatchRegister(ctx, actor, regs)
	if err != nil {
		return nil, err
	}
	out := &batchRegisterResponse{Users: make([]batchUserInfo, len(users))}
	for i, u := range users {
		out.Users[i] = batchUserInfo{SdkAppId: u.SdkAppID, UserId: u.ID, OriginId: u.OriginID}
	}
	return out, nil
}

type loginUserRequest struct {
	UserId string `tc:"UserId,required"`
}

func loginUser(ctx context.Context, svc *core.Service, actor *usercenter.Actor, req *loginUserRequest) (*sessionResponse, error) {
	s, err := svc.LoginUser(ctx, actor, req.UserId)
	if err != nil {
		return nil, err
	}
	return &sessionResponse{UserId: s.User.ID, Token: s.Token}, nil
}

type loginOriginIDRequest struct {
	SdkAppId uint64 `tc:"SdkAppId,required"`
	OriginId string `tc:"OriginId,required"`
}

func loginOriginID(ctx context.Context, svc *core.Service, actor *usercenter.Actor, req *loginOriginIDRequest) (*sessionResponse, error) {
	s, err := svc.LoginOriginID(ctx, actor, req.SdkAppId, req.OriginId)
	if err != nil {
		return nil, err
	}
	return &sessionResponse{UserId: s.User.ID, Token: s.Token}, nil
}

// userQuery finds users by UserId or, when UserId is empty, by OriginId
// across the key's apps.
type userQuery struct {
	UserId   string `tc:"UserId"`
	OriginId string `tc:"OriginId"`
}

func (q *userQuery) find(ctx context.Context, svc *core.Service, actor *usercenter.Actor) ([]usercenter.User, error) {
	if q.UserId != "" {
		// LCIC's user object has no phone, email or address.
		u, err := svc.UserProfile(ctx, actor, q.UserId)
		if err != nil {
			return nil, err
		}
		return []usercenter.User{*u}, nil
	}
	if q.OriginId == "" {
		return nil, &paramError{code: "MissingParameter", msg: "the parameter UserId (or OriginId) is required"}
	}
	return svc.UsersByOrigin(ctx, actor, q.OriginId)
}

type describeUserResponse struct {
	UserInfo
	requestID
}

func describeUser(ctx context.Context, svc *core.Service, actor *usercenter.Actor, req *userQuery) (*describeUserResponse, error) {
	if req.UserId != "" {
		// As find would, without the list of one.
		u, err := svc.UserProfile(ctx, actor, req.UserId)
		if err != nil {
			return nil, err
		}
		return &describeUserResponse{UserInfo: userInfo(u)}, nil
	}
	users, err := req.find(ctx, svc, actor)
	if err != nil {
		return nil, err
	}
	if len(users) > 1 {
		return nil, usercenter.Invalid("OriginId", "OriginId matches users in %d apps of this key; use UserId or DescribeUserDetail", len(users))
	}
	return &describeUserResponse{UserInfo: userInfo(&users[0])}, nil
}

type usersResponse struct {
	Users []UserInfo `json:"Users"`
	requestID
}

func describeUserDetail(ctx context.Context, svc *core.Service, actor *usercenter.Actor, req *userQuery) (*usersResponse, error) {
	users, err := req.find(ctx, svc, actor)
	if err != nil {
		return nil, err
	}
	out := &usersResponse{Users: make([]UserInfo, len(users))}
	for i := range users {
		out.Users[i] = userInfo(&users[i])
	}
	return out, nil
}

type modifyUserProfileRequest struct {
	UserId   string  `tc:"UserId,required"`
	Nickname *string `tc:"Nickname"`
	Avatar   *string `tc:"Avatar"`
}

type emptyResponse struct{ requestID }

func modifyUserProfile(ctx context.Context, svc *core.Service, actor *usercenter.Actor, req *modifyUserProfileRequest) (*emptyResponse, error) {
	// Validate with LCIC's field names before the shared rules run.
	if req.Nickname != nil {
		if err := usercenter.CheckNickname("Nickname", *req.Nickname); err != nil {
			return nil, err
		}
	}
	if req.Avatar != nil {
		if err := usercenter.CheckAvatar("Avatar", *req.Avatar); err != nil {
			return nil, err
		}
	}
	_, err := svc.UpdateUser(ctx, actor, req.UserId, core.UserPatch{Nickname: req.Nickname, Avatar: req.Avatar})
	if err != nil {
		return nil, err
	}
	return &emptyResponse{}, nil
}

type deleteUserRequest struct {
	UserId string `tc:"UserId,required"`
}

func deleteUser(ctx context.Context, svc *core.Service, actor *usercenter.Actor, req *deleteUserRequest) (*emptyResponse, error) {
	if err := svc.DeleteUser(ctx, actor, req.UserId); err != nil {
		return nil, err
	}
	return &emptyResponse{}, nil
}

type describeSdkAppIDUsersRequest struct {
	SdkAppId uint64 `tc:"SdkAppId,required"`
	Page     *int64 `tc:"Page"`
	Limit    *int64 `tc:"Limit"`
}

type describeSdkAppIDUsersResponse struct {
	Total uint64     `json:"Total"`
	Users []UserInfo `json:"Users"`
	requestID
}

func describeSdkAppIDUsers(ctx context.Context, svc *core.Service, actor *usercenter.Actor, req *describeSdkAppIDUsersRequest) (*describeSdkAppIDUsersResponse, error) {
	page, limit := int64(1), int64(20)
	if req.Page != nil {
		page = *req.Page
	}
	if req.Limit != nil {
		limit = *req.Limit
	}
	if page < 1 || page > 1<<31 {
		return nil, usercenter.Invalid("Page", "Page must be between 1 and %d", 1<<31)
	}
	if limit < 1 || limit > core.MaxPageSize {
		return nil, usercenter.Invalid("Limit", "Limit must be between 1 and %d", core.MaxPageSize)
	}
	users, total, err := svc.ListUsers(ctx, actor, req.SdkAppId, int(page), int(limit))
	if err != nil {
		return nil, err
	}
	out := &describeSdkAppIDUsersResponse{Total: uint64(total), Users: make([]UserInfo, len(users))}
	for i := range users {
		out.Users[i] = userInfo(&users[i])
	}
	return out, nil
}
