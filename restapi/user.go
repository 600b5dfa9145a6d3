package restapi

import (
	"time"

	"usercenter"
)

// userJSON is the user object of the API.
type userJSON struct {
	UserID        string            `json:"userId"`
	SdkAppID      uint64            `json:"sdkAppId"`
	OriginID      string            `json:"originId"`
	ExternalID    string            `json:"externalId"`
	UserDomain    string            `json:"userDomain"`
	Status        int               `json:"status"`
	Nickname      string            `json:"nickname"`
	FullName      string            `json:"fullName"`
	Avatar        string            `json:"avatar"`
	Phone         string            `json:"phone"`
	Email         string            `json:"email"`
	Address       string            `json:"address"`
	City          string            `json:"city"`
	Province      string            `json:"province"`
	Nationality   string            `json:"nationality"`
	Lang          string            `json:"lang"`
	Timezone      string            `json:"timezone"`
	Sex           string            `json:"sex"`
	Signature     string            `json:"signature"`
	Remark        string            `json:"remark"`
	LogonMode     int               `json:"logonMode"`
	RegisterTime  string            `json:"registerTime"`
	UpdateTime    string            `json:"updateTime"`
	LastLoginTime *string           `json:"lastLoginTime"`
	ThirdPartyIDs map[string]string `json:"thirdPartyIds"`
}

// userList is the answer of GET /v1/apps/{sdkAppId}/users.
type userList struct {
	Users []userJSON `json:"users"`
	Next  *string    `json:"next"`
}

// auditJSON is one audit event.
type auditJSON struct {
	ID        int64  `json:"id"`
	At        string `json:"at"`
	SdkAppID  uint64 `json:"sdkAppId"`
	UserID    string `json:"userId"`
	Action    string `json:"action"`
	Field     string `json:"field"`
	Actor     string `json:"actor"`
	RequestID string `json:"requestId"`
	Reason    string `json:"reason"`
}

// auditList is the answer of GET /v1/audit.
type auditList struct {
	Events []auditJSON `json:"events"`
	Next   *string     `json:"next"`
}

// timeJSON formats a time as RFC 3339 in UTC, to the second.
func timeJSON(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func toUserJSON(u *usercenter.User) userJSON {
	out := userJSON{
		UserID:        u.ID,
		SdkAppID:      u.SdkAppID,
		OriginID:      u.OriginID,
		ExternalID:    u.ExternalID,
		UserDomain:    u.UserDomain,
		Status:        int(u.Status),
		Nickname:      u.Nickname,
		FullName:      u.FullName,
		Avatar:        u.Avatar,
		Phone:         u.Phone,
		Email:         u.Email,
		Address:       u.Address,
		City:          u.City,
		Province:      u.Province,
		Nationality:   u.Nationality,
		Lang:          u.Lang,
		Timezone:      u.Timezone,
		Sex:           u.Sex,
		Signature:     u.Signature,
		Remark:        u.Remark,
		LogonMode:     int(u.LogonMode),
		RegisterTime:  timeJSON(u.CreatedAt),
		UpdateTime:    timeJSON(u.UpdatedAt),
		ThirdPartyIDs: make(map[string]string, len(u.ThirdParty)),
	}
	if !u.LastLoginAt.IsZero() {
		s := timeJSON(u.LastLoginAt)
		out.LastLoginTime = &s
	}
	for p, id := range u.ThirdParty {
		out.ThirdPartyIDs[string(p)] = id
	}
	return out
}

func toUserList(users []usercenter.User) []userJSON {
	out := make([]userJSON, len(users))
	for i := range users {
		out[i] = toUserJSON(&users[i])
	}
	return out
}

func toAuditJSON(e *usercenter.AuditEvent) auditJSON {
	return auditJSON{
		ID:        e.ID,
		At:        timeJSON(e.At),
		SdkAppID:  e.SdkAppID,
		UserID:    e.UserID,
		Action:    string(e.Action),
		Field:     e.Field,
		Actor:     e.Actor,
		RequestID: e.RequestID,
		Reason:    e.Reason,
	}
}
