package enterprise_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

// fullPatch sets every profile field and a link to every provider.
func fullPatch() core.UserPatch {
	s := func(v string) *string { return &v }
	mode := usercenter.LogonWeChat
	return core.UserPatch{
		OriginID:    s("crm-42"),
		Nickname:    s("Alice"),
		Avatar:      s("https://cdn.example.com/a.png"),
		Phone:       s("+8613612346688"),
		Email:       s("alice.liddell@example.com"),
		Address:     s("1 Wonderland Road, Oxford"),
		City:        s("Oxford"),
		Province:    s("Oxfordshire"),
		Nationality: s("GB"),
		Lang:        s("en-GB"),
		Timezone:    s("Europe/London"),
		Sex:         s("female"),
		Signature:   s("curiouser"),
		Remark:      s("vip"),
		LogonMode:   &mode,
		ThirdParty: map[usercenter.Provider]*string{
			usercenter.ProviderAlipay:            s("ali-1"),
			usercenter.ProviderApple:             s("apple-1"),
			usercenter.ProviderFacebook:          s("fb-1"),
			usercenter.ProviderQQ:                s("qq-1"),
			usercenter.ProviderTwitter:           s("tw-1"),
			usercenter.ProviderWeChatMiniProgram: s("wxmp-1"),
			usercenter.ProviderWeChatOffiaccount: s("wxoa-1"),
			usercenter.ProviderWeChatUnion:       s("wxun-1"),
		},
	}
}

func TestUserInfo(t *testing.T) {
	env := uctest.New(t)
	u := newUser(t, env, env.App.SdkAppID, fullPatch())
	// A login through LCIC sets the last login time.
	if _, err := svctest.LoginUser(env.Svc, bg, usercenter.Operator(), u.ID); err != nil {
		t.Fatal(err)
	}
	stored, err := env.Svc.GetUser(bg, usercenter.Operator(), u.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := login(t, env, env.Key) // every permission, pii.read included

	res := get(t, env, pathUserInfo+"?uid="+u.ID, tok).want(t, 200, "OK")
	sameSet(t, "answer", keysOf(t, res.Body), []string{"code", "data", "msg", "extMsg"})
	sameSet(t, "data", keysOf(t, res.m["data"]), seedUserFields)
	var got userJSON
	res.field(t, "data", &got)
	want := userJSON{
		Address:                 usercenter.MaskAddress("1 Wonderland Road, Oxford"),
		AlipayUserID:            "ali-1",
		AppleUserID:             "apple-1",
		City:                    "Oxford",
		Email:                   "alice.liddell@example.com",
		FacebookUserID:          "fb-1",
		Headimg:                 "https://cdn.example.com/a.png",
		Lang:                    "en-GB",
		LastLoginTime:           stored.LastLoginAt.UnixMilli(),
		LastLoginTimeTs:         stored.LastLoginAt.Unix(),
		LogonMode:               4,
		Nationality:             "GB",
		NikeName:                "Alice",
		Phone:                   "+8613612346688",
		Province:                "Oxfordshire",
		QQUserID:                "qq-1",
		RegisterTime:            stored.CreatedAt.UnixMilli(),
		RegisterTimeTs:          stored.CreatedAt.Unix(),
		Remark:                  "vip",
		Sex:                     "female",
		Signature:               "curiouser",
		Status:                  1,
		Timezone:                "Europe/London",
		TwitterUserID:           "tw-1",
		UID:                     u.ID,
		UserDomain:              env.App.UserDomain,
		WechatMiniprogramUserID: "wxmp-1",
		WechatOffiaccountUserID: "wxoa-1",
		WechatUnionID:           "wxun-1",
	}
	if got != want {
		t.Fatalf("userInfo\n got  %+v\n want %+v", got, want)
	}
	// Units: …Time in milliseconds, …Ts in seconds, both of the same instant.
	if got.RegisterTime/1000 != got.RegisterTimeTs || got.LastLoginTime/1000 != got.LastLoginTimeTs || got.LastLoginTime == 0 {
		t.Fatalf("time units: %+v", got)
	}
	if d := time.Since(time.UnixMilli(got.RegisterTime)); d < 0 || d > time.Minute {
		t.Fatalf("registerTime %d is not epoch milliseconds of now", got.RegisterTime)
	}

	// A key without pii.read sees masked values.
	reader := env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersRead)
	masked := userInfo(t, env, login(t, env, reader), u.ID)
	if masked.Phone != usercenter.MaskPhone("+8613612346688") || masked.Email != usercenter.MaskEmail("alice.liddell@example.com") || masked.Phone == want.Phone || masked.Email == want.Email {
		t.Fatalf("masked view %+v", masked)
	}
	masked.Phone, masked.Email = want.Phone, want.Email
	if masked != want {
		t.Fatalf("masked view differs beyond phone and email: %+v", masked)
	}

	// A user who never logged in: zero times, empty fields, all present.
	bare := newUser(t, env, env.App.SdkAppID, core.UserPatch{})
	res = get(t, env, pathUserInfo+"?uid="+bare.ID, tok).want(t, 200, "OK")
	sameSet(t, "data of a bare user", keysOf(t, res.m["data"]), seedUserFields)
	var b userJSON
	res.field(t, "data", &b)
	if b.LastLoginTime != 0 || b.LastLoginTimeTs != 0 || b.Phone != "" || b.Email != "" || b.LogonMode != 11 || b.UID != bare.ID {
		t.Fatalf("bare user %+v", b)
	}
}

func TestUserInfoCodes(t *testing.T) {
	env := uctest.New(t)
	u := newUser(t, env, env.App.SdkAppID, ptrPatch("Alice"))
	tok := login(t, env, env.Key)
	writer := login(t, env, env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersWrite))
	piiOnly := login(t, env, env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermPIIRead))

	get(t, env, pathUserInfo+"?uid="+u.ID, "").want(t, 5106, "Please enter token")
	get(t, env, pathUserInfo+"?uid="+u.ID, "QJWT ").want(t, 5106, "")
	get(t, env, pathUserInfo+"?uid="+u.ID, "   ").want(t, 5106, "")
	get(t, env, pathUserInfo+"?uid="+u.ID, "QJWT nope").want(t, 5032, "Token verification failed")
	get(t, env, pathUserInfo+"?uid="+u.ID, tok+"x").want(t, 5032, "")
	get(t, env, pathUserInfo+"?uid="+u.ID, "Bearer "+strings.TrimPrefix(tok, "QJWT ")).want(t, 5032, "")
	get(t, env, pathUserInfo+"?uid="+u.ID, strings.Repeat("t", 5000)).want(t, 5032, "")
	get(t, env, pathUserInfo, tok).want(t, 5065, "Please enter user ID")
	get(t, env, pathUserInfo+"?uid=", tok).want(t, 5065, "")
	get(t, env, pathUserInfo+"?uid=+", tok).want(t, 5065, "")
	get(t, env, pathUserInfo+"?uid="+u.ID, writer).want(t, 5041, "No permission")
	get(t, env, pathUserInfo+"?uid="+u.ID, piiOnly).want(t, 5041, "")
	notFound := get(t, env, pathUserInfo+"?uid=0ujsswThIGTUYm2K8FjOOfXtY1K", tok).want(t, 5033, "User does not exist")
	for _, uid := range []string{"nope", strings.Repeat("u", 27), strings.Repeat("u", 100), "' OR 1=1 --", "名字"} {
		res := get(t, env, pathUserInfo+"?uid="+url.QueryEscape(uid), tok).want(t, 5033, "User does not exist")
		if string(res.Body) != string(notFound.Body) {
			t.Fatalf("uid %q: %s, want the same answer as any unknown uid: %s", uid, res.Body, notFound.Body)
		}
	}
	// A deleted user is gone.
	if err := env.Svc.DeleteUser(bg, usercenter.Operator(), u.ID); err != nil {
		t.Fatal(err)
	}
	get(t, env, pathUserInfo+"?uid="+u.ID, tok).want(t, 5033, "")

	// A disabled app answers no permission, for its users and its list.
	v := newUser(t, env, env.App.SdkAppID, ptrPatch("Bob"))
	err := env.Store.Update(bg, func(tx core.Tx) error {
		rec, err := tx.App(bg, env.App.SdkAppID)
		if err != nil {
			return err
		}
		rec.Status = usercenter.AppDisabled
		return tx.UpdateApp(bg, rec)
	})
	if err != nil {
		t.Fatal(err)
	}
	get(t, env, pathUserInfo+"?uid="+v.ID, tok).want(t, 5041, "No permission")
	get(t, env, pathDomainUserList+"?userDomain="+env.App.UserDomain, tok).want(t, 5041, "")
	get(t, env, pathSetUserStatus+"?status=0&uid="+v.ID, tok).want(t, 5041, "")
	var p pageJSON[domainJSON]
	get(t, env, pathDomainList, tok).want(t, 200, "").field(t, "data", &p)
	if len(p.List) != 1 || p.List[0].Enable || p.List[0].IsEnable {
		t.Fatalf("a disabled app's domain: %+v", p.List)
	}
}

func TestSetUserStatus(t *testing.T) {
	env := uctest.New(t)
	u := newUser(t, env, env.App.SdkAppID, ptrPatch("Alice"))
	if _, err := svctest.LoginUser(env.Svc, bg, usercenter.Operator(), u.ID); err != nil {
		t.Fatal(err)
	}
	sess, err := svctest.LoginUser(env.Svc, bg, usercenter.Operator(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	tok := login(t, env, env.Key)
	set := func(token, query string) *result { return get(t, env, pathSetUserStatus+"?"+query, token) }

	res := set(tok, "uid="+u.ID+"&status=0").want(t, 200, "OK")
	sameSet(t, "answer", keysOf(t, res.Body), []string{"code", "data", "msg", "extMsg"})
	if string(res.m["data"]) != "{}" {
		t.Fatalf("data %s, want {}", res.m["data"])
	}
	if got := userInfo(t, env, tok, u.ID); got.Status != 0 {
		t.Fatalf("status %d after disabling", got.Status)
	}
	// A disabled user can no longer log in through LCIC, nor use a token.
	if _, err := svctest.LoginUser(env.Svc, bg, env.Key.Actor(), u.ID); usercenter.ErrorCode(err) != usercenter.EDisabled {
		t.Fatalf("LCIC login of a disabled user: %v", err)
	}
	if _, err := svctest.LoginOriginID(env.Svc, bg, env.Key.Actor(), env.App.SdkAppID, u.OriginID); usercenter.ErrorCode(err) != usercenter.EDisabled {
		t.Fatalf("LCIC login by OriginId of a disabled user: %v", err)
	}
	if _, err := env.Svc.Me(bg, sess.Token); usercenter.ErrorCode(err) != usercenter.EDisabled {
		t.Fatalf("session check of a disabled user: %v", err)
	}
	if _, err := env.Svc.SuperAppCheckUser(bg, env.Key.Actor(), u.ID); usercenter.ErrorCode(err) != usercenter.EDisabled {
		t.Fatalf("super-app check of a disabled user: %v", err)
	}
	// The change is audited as any other.
	events, err := svctest.AuditEvents(env.Svc, bg, usercenter.Operator(), usercenter.AuditFilter{UserID: u.ID, Action: usercenter.AuditUpdate})
	if err != nil || len(events) != 1 || events[0].Field != "status" || events[0].Actor != "key:"+env.Key.SecretID || events[0].RequestID == "" {
		t.Fatalf("audit %+v %v", events, err)
	}
	// Idempotent, and reversible.
	set(tok, "uid="+u.ID+"&status=0").want(t, 200, "OK")
	set(tok, "status=1&uid="+u.ID).want(t, 200, "OK")
	if got := userInfo(t, env, tok, u.ID); got.Status != 1 {
		t.Fatalf("status %d after enabling", got.Status)
	}
	if _, err := svctest.LoginUser(env.Svc, bg, env.Key.Actor(), u.ID); err != nil {
		t.Fatalf("LCIC login after enabling: %v", err)
	}

	reader := login(t, env, env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersRead, usercenter.PermPIIRead))
	for _, c := range []struct {
		name, token, query string
		code               int
	}{
		{"no token", "", "uid=" + u.ID + "&status=0", 5106},
		{"bad token", "QJWT x", "uid=" + u.ID + "&status=0", 5032},
		{"no users.write", reader, "uid=" + u.ID + "&status=0", 5041},
		{"missing uid", tok, "status=0", 5065},
		{"missing status", tok, "uid=" + u.ID, 50005},
		{"status 2", tok, "uid=" + u.ID + "&status=2", 50005},
		{"status -1", tok, "uid=" + u.ID + "&status=-1", 50005},
		{"status text", tok, "uid=" + u.ID + "&status=disabled", 50005},
		{"status 01", tok, "uid=" + u.ID + "&status=01", 50005},
		{"unknown uid", tok, "uid=0ujsswThIGTUYm2K8FjOOfXtY1K&status=0", 5033},
		{"garbage uid", tok, "uid=nope&status=0", 5033},
	} {
		t.Run(c.name, func(t *testing.T) { set(c.token, c.query).want(t, c.code, "") })
	}
	if got := userInfo(t, env, tok, u.ID); got.Status != 1 {
		t.Fatalf("a failed call changed the status: %d", got.Status)
	}
}

func TestDomainList(t *testing.T) {
	env := uctest.New(t)
	second, _ := env.NewApp(t, "second", 1000)
	third, _ := env.NewApp(t, "third", 1000)
	key := env.NewKey(t, []uint64{third.SdkAppID, env.App.SdkAppID}, usercenter.PermUsersRead)
	tok := login(t, env, key)

	res := get(t, env, pathDomainList, tok).want(t, 200, "OK")
	sameSet(t, "answer", keysOf(t, res.Body), []string{"code", "data", "msg", "extMsg"})
	sameSet(t, "data", keysOf(t, res.m["data"]), pageInfoFields)
	var p pageJSON[domainJSON]
	res.field(t, "data", &p)
	if p.Total != 2 || p.Pages != 1 || p.PageNum != 1 || p.PageSize != 10 || p.Size != 2 || len(p.List) != 2 || !p.IsFirstPage || !p.IsLastPage {
		t.Fatalf("page %+v", p)
	}
	var items []map[string]any
	var data struct{ List []map[string]any }
	res.field(t, "data", &data)
	items = data.List
	for _, it := range items {
		var names []string
		for k := range it {
			names = append(names, k)
		}
		sameSet(t, "user domain", names, domainFields)
	}
	// In SdkAppId order, only the key's apps, never a secret.
	wantApps := []*usercenter.App{env.App, third}
	if third.SdkAppID < env.App.SdkAppID {
		wantApps = []*usercenter.App{third, env.App}
	}
	for i, d := range p.List {
		a := wantApps[i]
		if d.UserDomain != a.UserDomain || d.UserDomainID != a.SdkAppID || d.Remark != a.Name || !d.Enable || !d.IsEnable ||
			d.UserDomainSecret != "" || d.AddTime != a.CreatedAt.UnixMilli() || d.AddTimeTs != a.CreatedAt.Unix() || d.UpdateTime != d.AddTime {
			t.Fatalf("item %d: %+v, want app %+v", i, d, a)
		}
	}
	if strings.Contains(string(res.Body), second.UserDomain) || strings.Contains(string(res.Body), env.App.SuperAppSecretKey) || strings.Contains(string(res.Body), third.SuperAppSecretKey) {
		t.Fatalf("the list leaks: %s", res.Body)
	}

	// Paging over the domains.
	res = get(t, env, pathDomainList+"?page=2&pageSize=1", tok).want(t, 200, "OK")
	res.field(t, "data", &p)
	if p.Total != 2 || p.Pages != 2 || p.Size != 1 || p.List[0].UserDomain != wantApps[1].UserDomain || !p.IsLastPage || p.PrePage != 1 || p.StartRow != 2 {
		t.Fatalf("page 2: %+v", p)
	}
	res = get(t, env, pathDomainList+"?page=3&pageSize=1", tok).want(t, 200, "OK")
	res.field(t, "data", &p)
	if p.Size != 0 || len(p.List) != 0 || p.Total != 2 {
		t.Fatalf("page past the end: %+v", p)
	}

	// Any key may list its domains; a token is needed.
	get(t, env, pathDomainList, "").want(t, 5106, "Please enter token")
	get(t, env, pathDomainList, "QJWT nope").want(t, 5032, "")
	writer := login(t, env, env.NewKey(t, []uint64{second.SdkAppID}, usercenter.PermUsersWrite))
	res = get(t, env, pathDomainList, writer).want(t, 200, "OK")
	res.field(t, "data", &p)
	if p.Total != 1 || p.List[0].UserDomain != second.UserDomain {
		t.Fatalf("writer's domains: %+v", p)
	}
	get(t, env, pathDomainList+"?page=x", tok).want(t, 50005, "")
	get(t, env, pathDomainList+"?pageSize=1.5", tok).want(t, 50005, "")
}
