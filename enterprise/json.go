package enterprise

import (
	"time"

	"usercenter"
)

// userJSON is the Acceleronix enterprise API's "User Information", every field always present,
// nikeName spelled as the platform spells it. …Time fields are epoch
// milliseconds and …Ts fields epoch seconds; 0 when unset.
type userJSON struct {
	Address                 string `json:"address"`
	AlipayUserID            string `json:"alipayUserId"`
	AppleUserID             string `json:"appleUserId"`
	City                    string `json:"city"`
	Email                   string `json:"email"`
	FacebookUserID          string `json:"facebookUserId"`
	Headimg                 string `json:"headimg"`
	Lang                    string `json:"lang"`
	LastLoginTime           int64  `json:"lastLoginTime"`
	LastLoginTimeTs         int64  `json:"lastLoginTimeTs"`
	LogonMode               int    `json:"logonMode"`
	Nationality             string `json:"nationality"`
	NikeName                string `json:"nikeName"`
	Phone                   string `json:"phone"`
	Province                string `json:"province"`
	QQUserID                string `json:"qqUserId"`
	RegisterTime            int64  `json:"registerTime"`
	RegisterTimeTs          int64  `json:"registerTimeTs"`
	Remark                  string `json:"remark"`
	Sex                     string `json:"sex"`
	Signature               string `json:"signature"`
	Status                  int    `json:"status"`
	Timezone                string `json:"timezone"`
	TwitterUserID           string `json:"twitterUserId"`
	UID                     string `json:"uid"`
	UserDomain              string `json:"userDomain"`
	WechatMiniprogramUserID string `json:"wechatMiniprogramUserId"`
	WechatOffiaccountUserID string `json:"wechatOffiaccountUserId"`
	WechatUnionID           string `json:"wechatUnionId"`
}

// epochMillis and epochSeconds are 0 for the zero time.
func epochMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func epochSeconds(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// toUserJSON renders a user as core returned it: personal data already
// masked or revealed as the caller may see it.
func toUserJSON(u *usercenter.User) userJSON {
	tp := u.ThirdParty
	return userJSON{
		Address:                 u.Address,
		AlipayUserID:            tp[usercenter.ProviderAlipay],
		AppleUserID:             tp[usercenter.ProviderApple],
		City:                    u.City,
		Email:                   u.Email,
		FacebookUserID:          tp[usercenter.ProviderFacebook],
		Headimg:                 u.Avatar,
		Lang:                    u.Lang,
		LastLoginTime:           epochMillis(u.LastLoginAt),
		LastLoginTimeTs:         epochSeconds(u.LastLoginAt),
		LogonMode:               int(u.LogonMode),
		Nationality:             u.Nationality,
		NikeName:                u.Nickname,
		Phone:                   u.Phone,
		Province:                u.Province,
		QQUserID:                tp[usercenter.ProviderQQ],
		RegisterTime:            epochMillis(u.CreatedAt),
		RegisterTimeTs:          epochSeconds(u.CreatedAt),
		Remark:                  u.Remark,
		Sex:                     u.Sex,
		Signature:               u.Signature,
		Status:                  int(u.Status),
		Timezone:                u.Timezone,
		TwitterUserID:           tp[usercenter.ProviderTwitter],
		UID:                     u.ID,
		UserDomain:              u.UserDomain,
		WechatMiniprogramUserID: tp[usercenter.ProviderWeChatMiniProgram],
		WechatOffiaccountUserID: tp[usercenter.ProviderWeChatOffiaccount],
		WechatUnionID:           tp[usercenter.ProviderWeChatUnion],
	}
}

// domainJSON is a "User Domain": one app. userDomainSecret is always
// empty: no secret ever leaves through this API.
type domainJSON struct {
	AddTime          int64  `json:"addTime"`
	AddTimeTs        int64  `json:"addTimeTs"`
	Enable           bool   `json:"enable"`
	EntID            int64  `json:"entId"`
	IsEnable         bool   `json:"isEnable"`
	Remark           string `json:"remark"`
	UpdateTime       int64  `json:"updateTime"`
	UpdateTimeTs     int64  `json:"updateTimeTs"`
	UserDomain       string `json:"userDomain"`
	UserDomainID     uint64 `json:"userDomainId"`
	UserDomainSecret string `json:"userDomainSecret"`
	UserDomainType   string `json:"userDomainType"`
}

// toDomainJSON renders an app as a user domain: its id is the SdkAppId,
// its remark the app's name. usercenter has no enterprises (entId 0), no
// domain types ("") and keeps no update time for apps (the creation time).
func toDomainJSON(app *usercenter.App) domainJSON {
	enabled := app.Status == usercenter.AppActive
	return domainJSON{
		AddTime:      epochMillis(app.CreatedAt),
		AddTimeTs:    epochSeconds(app.CreatedAt),
		Enable:       enabled,
		IsEnable:     enabled,
		Remark:       app.Name,
		UpdateTime:   epochMillis(app.CreatedAt),
		UpdateTimeTs: epochSeconds(app.CreatedAt),
		UserDomain:   app.UserDomain,
		UserDomainID: app.SdkAppID,
	}
}

// navigatePages is PageHelper's default number of page links.
const navigatePages = 8

// pageInfo is PageHelper's PageInfo, with exactly its fields.
type pageInfo[T any] struct {
	EndRow            int64 `json:"endRow"`
	HasNextPage       bool  `json:"hasNextPage"`
	HasPreviousPage   bool  `json:"hasPreviousPage"`
	IsFirstPage       bool  `json:"isFirstPage"`
	IsLastPage        bool  `json:"isLastPage"`
	List              []T   `json:"list"`
	NavigateFirstPage int   `json:"navigateFirstPage"`
	NavigateLastPage  int   `json:"navigateLastPage"`
	NavigatePages     int   `json:"navigatePages"`
	NavigatepageNums  []int `json:"navigatepageNums"`
	NextPage          int   `json:"nextPage"`
	PageNum           int   `json:"pageNum"`
	PageSize          int   `json:"pageSize"`
	Pages             int   `json:"pages"`
	PrePage           int   `json:"prePage"`
	Size              int   `json:"size"`
	StartRow          int64 `json:"startRow"`
	Total             int64 `json:"total"`
}

// newPageInfo computes a PageInfo as PageHelper 5 does for page pageNum
// (from 1) of pageSize items out of total, list being that page's items.
// A page past the end has an empty list and keeps PageHelper's quirks:
// its prePage is pageNum-1 and it is neither the first nor the last page.
func newPageInfo[T any](pageNum, pageSize int, total int64, list []T) pageInfo[T] {
	if list == nil {
		list = []T{}
	}
	p := pageInfo[T]{
		List:          list,
		PageNum:       pageNum,
		PageSize:      pageSize,
		Size:          len(list),
		Total:         total,
		NavigatePages: navigatePages,
	}
	if pageSize > 0 {
		p.Pages = int(total / int64(pageSize))
		if total%int64(pageSize) != 0 {
			p.Pages++
		}
	}
	if p.Size > 0 {
		p.StartRow = int64(pageNum-1)*int64(pageSize) + 1
		p.EndRow = p.StartRow - 1 + int64(p.Size)
	}
	// Page links: every page when there are few, otherwise a window of
	// navigatePages around pageNum, pushed back inside 1..pages.
	if p.Pages <= navigatePages {
		p.NavigatepageNums = make([]int, p.Pages)
		for i := range p.NavigatepageNums {
			p.NavigatepageNums[i] = i + 1
		}
	} else {
		p.NavigatepageNums = make([]int, navigatePages)
		start := pageNum - navigatePages/2
		end := pageNum + navigatePages/2
		switch {
		case start < 1:
			start = 1
		case end > p.Pages:
			start = p.Pages - navigatePages + 1
		}
		for i := range p.NavigatepageNums {
			p.NavigatepageNums[i] = start + i
		}
	}
	if n := len(p.NavigatepageNums); n > 0 {
		p.NavigateFirstPage = p.NavigatepageNums[0]
		p.NavigateLastPage = p.NavigatepageNums[n-1]
		if pageNum > 1 {
			p.PrePage = pageNum - 1
		}
		if pageNum < p.Pages {
			p.NextPage = pageNum + 1
		}
	}
	p.IsFirstPage = pageNum == 1
	p.IsLastPage = pageNum == p.Pages || p.Pages == 0
	p.HasPreviousPage = pageNum > 1
	p.HasNextPage = pageNum < p.Pages
	return p
}
