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
	name       string // core's name of the action, "lcic.<Action>", made once
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

func init() {
	for name, a := range actions {
		a.name = "lcic." + name
		actions[name] = a
	}
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

func cardInfo(c *core.UserCard) UserInfo {
	return UserInfo{SdkAppId: c.SdkAppID, UserId: c.ID, Name: c.Nickname, Avatar: c.Avatar, OriginId: c.OriginID}
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
	s, err := svc.RegisterUser(ctx, actor, req.SdkAppId, registration(req.Name, req.OriginId, req.Avatar))
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
	regs := make([]core.RegisterItem, len(req.Users))
	for i, u := range req.Users {
		regs[i] = core.RegisterItem{SdkAppID: u.SdkAppId, UserPatch: registration(u.Name, u.OriginId, u.Avatar)}
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

// registration is a user LCIC registers: a name and an avatar, which a
// registration of an existing OriginId (BatchRegister) overwrites, empty
// or not, and an OriginId that defaults to the UserId.
func registration(name, originID, avatar string) core.UserPatch {
	p := core.UserPatch{Nickname: &name, Avatar: &avatar}
	if originID != "" {
		p.OriginID = &originID
	}
	return p
}

type loginUserRequest struct {
	UserId string `tc:"UserId,required"`
}

func loginUser(ctx context.Context, svc *core.Service, actor *usercenter.Actor, req *loginUserRequest) (*sessionResponse, error) {
	s, err := svc.Login(ctx, actor, core.UserRef{UserID: req.UserId})
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
	s, err := svc.Login(ctx, actor, core.UserRef{SdkAppID: req.SdkAppId, OriginID: req.OriginId})
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

func (q *userQuery) find(ctx context.Context, svc *core.Service, actor *usercenter.Actor) ([]UserInfo, error) {
	if q.UserId != "" {
		// LCIC's user object has no phone, email or address: the card
		// holds all it shows.
		c, err := svc.UserCard(ctx, actor, q.UserId)
		if err != nil {
			return nil, err
		}
		return []UserInfo{cardInfo(c)}, nil
	}
	if q.OriginId == "" {
		return nil, &paramError{code: "MissingParameter", msg: "the parameter UserId (or OriginId) is required"}
	}
	cards, err := svc.UserCardsByOrigin(ctx, actor, q.OriginId)
	if err != nil {
		return nil, err
	}
	out := make([]UserInfo, len(cards))
	for i := range cards {
		out[i] = cardInfo(&cards[i])
	}
	return out, nil
}

type describeUserResponse struct {
	UserInfo
	requestID
}

func describeUser(ctx context.Context, svc *core.Service, actor *usercenter.Actor, req *userQuery) (*describeUserResponse, error) {
	if req.UserId != "" {
		// As find would, without the list of one.
		c, err := svc.UserCard(ctx, actor, req.UserId)
		if err != nil {
			return nil, err
		}
		return &describeUserResponse{UserInfo: cardInfo(c)}, nil
	}
	users, err := req.find(ctx, svc, actor)
	if err != nil {
		return nil, err
	}
	if len(users) > 1 {
		return nil, usercenter.Invalid(usercenter.FieldOriginID, "matches users in %d apps of this key; use UserId or DescribeUserDetail", len(users))
	}
	return &describeUserResponse{UserInfo: users[0]}, nil
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
	return &usersResponse{Users: users}, nil
}

type modifyUserProfileRequest struct {
	UserId   string  `tc:"UserId,required"`
	Nickname *string `tc:"Nickname"`
	Avatar   *string `tc:"Avatar"`
}

type emptyResponse struct{ requestID }

func modifyUserProfile(ctx context.Context, svc *core.Service, actor *usercenter.Actor, req *modifyUserProfileRequest) (*emptyResponse, error) {
	// This action names the nickname Nickname, not Name as the others
	// do: its own parameters are checked here, in its own words, before
	// the shared rules run.
	if req.Nickname != nil {
		if err := usercenter.CheckNickname(usercenter.FieldNickname, *req.Nickname); err != nil {
			return nil, &paramError{code: "InvalidParameterValue", msg: "Nickname " + usercenter.ErrorOf(err).Message}
		}
	}
	if req.Avatar != nil {
		if err := usercenter.CheckAvatar(usercenter.FieldAvatar, *req.Avatar); err != nil {
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
		return nil, usercenter.Invalid(usercenter.FieldPage, "must be between 1 and %d", 1<<31)
	}
	if limit < 1 || limit > core.MaxPageSize {
		return nil, usercenter.Invalid(usercenter.FieldPageSize, "must be between 1 and %d", core.MaxPageSize)
	}
	if page > (1<<31)/limit {
		return nil, usercenter.Invalid(usercenter.FieldPage, "is too large")
	}
	res, err := svc.ListUsers(ctx, actor, core.UserQuery{SdkAppID: req.SdkAppId, Offset: int(page-1) * int(limit), Limit: int(limit), WithTotal: true})
	if err != nil {
		return nil, err
	}
	users, total := res.Users, res.Total
	out := &describeSdkAppIDUsersResponse{Total: uint64(total), Users: make([]UserInfo, len(users))}
	for i := range users {
		out.Users[i] = userInfo(&users[i])
	}
	return out, nil
}
