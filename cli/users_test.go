package cli

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest/svctest"
)

// openDir opens the instance in dir in-process, for what the command line
// cannot do (create users) or to look behind it.
func openDir(t *testing.T, dir string) *instance {
	t.Helper()
	sf := storeFlags{data: dir}
	inst, err := sf.open(context.Background(), create)
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// newUsers creates users with the given OriginIds in an app. The command
// line has no user create: users come in through the APIs.
func newUsers(t *testing.T, dir string, app uint64, originIDs ...string) []string {
	t.Helper()
	inst := openDir(t, dir)
	defer inst.Close()
	var ids []string
	for _, o := range originIDs {
		u, err := svctest.CreateUser(inst.svc, context.Background(), operator(), app, core.UserPatch{OriginID: &o})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	return ids
}

// userOut is the output of the user commands with --json.
type userOut struct {
	UserId, UserDomain, OriginId                string
	SdkAppId                                    uint64
	Status, LogonMode                           int
	Nickname, Avatar, Phone, Email, Address     string
	City, Province, Nationality, Lang, Timezone string
	Sex, Signature, Remark                      string
	ThirdPartyIds                               map[string]string
	CreatedAt, UpdatedAt                        string
	LastLoginAt                                 *string // present even when empty
}

func getUser(t *testing.T, env map[string]string, args ...string) userOut {
	t.Helper()
	r := mustRun(t, env, append([]string{"user", "get", "--json"}, args...)...)
	var u userOut
	decodeOne(t, r.stdout, &u)
	return u
}

func findUsers(t *testing.T, env map[string]string, args ...string) []userOut {
	t.Helper()
	r := mustRun(t, env, append([]string{"user", "find", "--json"}, args...)...)
	var us []userOut
	decodeOne(t, r.stdout, &us)
	if us == nil {
		t.Fatalf("user find --json %v printed %q, want an array", args, r.stdout)
	}
	return us
}

// auditOut is one event of `audit --json`.
type auditOut struct {
	Id        int64  `json:"id"`
	At        string `json:"at"`
	SdkAppId  uint64 `json:"sdkAppId"`
	UserId    string `json:"userId"`
	Action    string `json:"action"`
	Field     string `json:"field"`
	Actor     string `json:"actor"`
	RequestId string `json:"requestId"`
	Reason    string `json:"reason"`
}

func auditEvents(t *testing.T, env map[string]string, args ...string) []auditOut {
	t.Helper()
	r := mustRun(t, env, append([]string{"audit", "--json"}, args...)...)
	var evs []auditOut
	decodeOne(t, r.stdout, &evs)
	if evs == nil {
		t.Fatalf("audit --json %v printed %q, want an array", args, r.stdout)
	}
	return evs
}

func TestUserRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	a := createApp(t, env, "shop")
	app := strconv.FormatUint(a.SdkAppId, 10)
	uid := newUsers(t, dir, a.SdkAppId, "alice-1")[0]

	r := mustRun(t, env, "user", "set", uid, "nickname=Alice Liddell", "phone=+8613612346688", "email=Alice.L@Example.com",
		"address=1 Wonderland Road, Nanshan", "city=Shenzhen", "province=Guangdong", "nationality=CN", "lang=zh-CN",
		"timezone=Asia/Shanghai", "sex=F", "signature=curiouser", "remark=vip", "logonMode=3", "status=1",
		"avatar=https://example.com/a.png", "thirdPartyIds.wechatUnion=wx-1", "--json")
	var set userOut
	decodeOne(t, r.stdout, &set)
	want := userOut{UserId: uid, SdkAppId: a.SdkAppId, UserDomain: a.UserDomain, OriginId: "alice-1", Status: 1, LogonMode: 3,
		Nickname: "Alice Liddell", Avatar: "https://example.com/a.png", Phone: usercenter.MaskPhone("+8613612346688"), Email: usercenter.MaskEmail("alice.l@example.com"),
		Address: usercenter.MaskAddress("1 Wonderland Road, Nanshan"), City: "Shenzhen", Province: "Guangdong", Nationality: "CN",
		Lang: "zh-CN", Timezone: "Asia/Shanghai", Sex: "F", Signature: "curiouser", Remark: "vip"}
	checkUser := func(what string, got userOut, want userOut, links map[string]string) {
		t.Helper()
		g, w := got, want
		g.ThirdPartyIds, g.CreatedAt, g.UpdatedAt, g.LastLoginAt = nil, "", "", nil
		w.ThirdPartyIds, w.CreatedAt, w.UpdatedAt, w.LastLoginAt = nil, "", "", nil
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
		}
		if fmt.Sprint(got.ThirdPartyIds) != fmt.Sprint(links) || got.ThirdPartyIds == nil {
			t.Errorf("%s: ThirdPartyIds = %v, want %v", what, got.ThirdPartyIds, links)
		}
		if _, err := time.Parse(time.RFC3339, got.CreatedAt); err != nil {
			t.Errorf("%s: CreatedAt %q: %v", what, got.CreatedAt, err)
		}
		if got.LastLoginAt == nil {
			t.Errorf("%s: no LastLoginAt field", what)
		}
	}
	links := map[string]string{"wechatUnion": "wx-1"}
	checkUser("user set --json", set, want, links)
	for _, plain := range []string{"13612346688", "alice.l@example.com", "Wonderland"} {
		if strings.Contains(r.stdout, plain) {
			t.Errorf("user set shows %q unmasked:\n%s", plain, r.stdout)
		}
	}

	checkUser("user get --json", getUser(t, env, uid), want, links)
	r = mustRun(t, env, "user", "get", uid)
	for _, s := range []string{uid, "Alice Liddell", usercenter.MaskPhone("+8613612346688"), "wechatUnion=wx-1", "1 (normal)"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("user get does not show %q:\n%s", s, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "13612346688") {
		t.Errorf("user get shows the phone unmasked:\n%s", r.stdout)
	}

	revealed := want
	revealed.Phone, revealed.Email, revealed.Address = "+8613612346688", "alice.l@example.com", "1 Wonderland Road, Nanshan"
	checkUser("user get --reveal all", getUser(t, env, uid, "--reveal", "phone,email,address"), revealed, links)
	onlyPhone := want
	onlyPhone.Phone = "+8613612346688"
	checkUser("user get --reveal phone", getUser(t, env, uid, "--reveal", "phone"), onlyPhone, links)

	for _, args := range [][]string{
		{"--origin-id", "alice-1"},
		{"--phone", "+8613612346688"},
		{"--phone", "136 1234 6688"},
		{"--email", "ALICE.L@example.com"},
		{"--provider", "wechatUnion", "--provider-user-id", "wx-1"},
	} {
		found := findUsers(t, env, append([]string{"--app", app}, args...)...)
		if len(found) != 1 {
			t.Errorf("user find %v: %d users, want 1", args, len(found))
			continue
		}
		checkUser(fmt.Sprintf("user find %v", args), found[0], want, links)
	}
	found := findUsers(t, env, "--app", app, "--email", "alice.l@example.com", "--reveal", "email")
	if len(found) != 1 || found[0].Email != "alice.l@example.com" || found[0].Phone != usercenter.MaskPhone("+8613612346688") {
		t.Errorf("user find --reveal email: %+v", found)
	}
	for _, args := range [][]string{
		{"--origin-id", "bob"},
		{"--phone", "+8613900000000"},
		{"--email", "nobody@example.com"},
		{"--provider", "wechatUnion", "--provider-user-id", "wx-2"},
	} {
		if found := findUsers(t, env, append([]string{"--app", app}, args...)...); len(found) != 0 {
			t.Errorf("user find %v: %d users, want none", args, len(found))
		}
	}
	if r := mustRun(t, env, "user", "find", "--app", app, "--origin-id", "bob"); !strings.Contains(r.stdout, "No user") {
		t.Errorf("user find without a match:\n%s", r.stdout)
	}
	r = mustRun(t, env, "user", "find", "--app", app, "--origin-id", "alice-1")
	if !strings.Contains(r.stdout, uid) {
		t.Errorf("user find:\n%s", r.stdout)
	}

	// Empty values clear text fields and unlink providers; originId changes.
	r = mustRun(t, env, "user", "set", uid, "email=", "remark=", "thirdPartyIds.wechatUnion=", "thirdPartyIds.qq=qq-9", "originId=alice-2", "status=0", "--json")
	var cleared userOut
	decodeOne(t, r.stdout, &cleared)
	want.Email, want.Remark, want.OriginId, want.Status = "", "", "alice-2", 0
	links = map[string]string{"qq": "qq-9"}
	checkUser("user set clearing", cleared, want, links)
	checkUser("user get after clearing", getUser(t, env, uid, "--reveal", "email"), want, links)
	if found := findUsers(t, env, "--app", app, "--email", "alice.l@example.com"); len(found) != 0 {
		t.Errorf("the cleared email still finds the user")
	}
	if found := findUsers(t, env, "--app", app, "--provider", "wechatUnion", "--provider-user-id", "wx-1"); len(found) != 0 {
		t.Errorf("the unlinked provider still finds the user")
	}
	if found := findUsers(t, env, "--app", app, "--origin-id", "alice-2"); len(found) != 1 || found[0].UserId != uid {
		t.Errorf("the new OriginId does not find the user: %+v", found)
	}
	r = mustRun(t, env, "user", "get", uid)
	if !strings.Contains(r.stdout, "0 (disabled)") {
		t.Errorf("user get of a disabled user:\n%s", r.stdout)
	}

	r = mustRun(t, env, "user", "delete", uid)
	if !strings.Contains(r.stdout, uid) || !strings.Contains(r.stdout, "Deleted") {
		t.Errorf("user delete:\n%s", r.stdout)
	}
	if r := runCLI(t, env, "user", "get", uid); r.code != 1 || !strings.Contains(r.stderr, "not found") || r.stdout != "" {
		t.Errorf("user get after delete: %s", r)
	}
	if found := findUsers(t, env, "--app", app, "--origin-id", "alice-2"); len(found) != 0 {
		t.Errorf("user find after delete: %+v", found)
	}
	if r := runCLI(t, env, "user", "delete", uid); r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("deleting again: %s", r)
	}

	// The whole history is in the audit log, by the operator, named by
	// the OS user.
	me := operator().Name
	evs := auditEvents(t, env, "--user", uid)
	var got []string
	for _, e := range evs {
		if e.Actor != me || e.UserId != uid || e.SdkAppId != a.SdkAppId {
			t.Errorf("audit event %+v: want actor %s, user %s, app %d", e, me, uid, a.SdkAppId)
		}
		got = append(got, e.Action+" "+e.Field)
	}
	for _, w := range []string{"create ", "update phone", "update email", "update address", "update thirdPartyIds.wechatUnion",
		"reveal phone", "reveal email", "reveal address", "update originId", "update status", "update thirdPartyIds.qq", "delete "} {
		if !slices.Contains(got, w) {
			t.Errorf("the audit log lacks %q: %v", w, got)
		}
	}
	if got[0] != "delete " { // newest first
		t.Errorf("the newest event is %q, want the delete", got[0])
	}
}

func TestUserSetPhoneNationalForm(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	cn := createApp(t, env, "cn shop")
	gb := createApp(t, env, "gb shop", "--phone-region", "gb")
	r := mustRun(t, env, "app", "show", strconv.FormatUint(gb.SdkAppId, 10), "--json")
	var shown struct{ PhoneRegion string }
	decodeOne(t, r.stdout, &shown)
	if shown.PhoneRegion != "GB" {
		t.Errorf("app show --json: PhoneRegion = %q, want GB", shown.PhoneRegion)
	}
	r = mustRun(t, env, "app", "list", "--json")
	var list []struct {
		SdkAppId    uint64
		PhoneRegion string
	}
	decodeOne(t, r.stdout, &list)
	for _, a := range list {
		want := map[uint64]string{cn.SdkAppId: "CN", gb.SdkAppId: "GB"}[a.SdkAppId]
		if a.PhoneRegion != want {
			t.Errorf("app list --json: app %d PhoneRegion %q, want %q", a.SdkAppId, a.PhoneRegion, want)
		}
	}

	for _, tc := range []struct {
		app         uint64
		input, want string
	}{
		{cn.SdkAppId, "136 1234 6688", "+8613612346688"},
		{cn.SdkAppId, "13612346688", "+8613612346688"},
		{cn.SdkAppId, "+86 136-1234-6688", "+8613612346688"},
		{gb.SdkAppId, "07400 123456", "+447400123456"},
		{gb.SdkAppId, "+8613612346688", "+8613612346688"},
	} {
		uid := newUsers(t, dir, tc.app, "u"+strconv.Itoa(int(time.Now().UnixNano())))[0]
		mustRun(t, env, "user", "set", uid, "phone="+tc.input)
		if got := getUser(t, env, uid, "--reveal", "phone").Phone; got != tc.want {
			t.Errorf("app %d: phone=%q stored as %q, want %q", tc.app, tc.input, got, tc.want)
		}
		found := findUsers(t, env, "--app", strconv.FormatUint(tc.app, 10), "--phone", tc.input)
		if !slices.ContainsFunc(found, func(u userOut) bool { return u.UserId == uid }) {
			t.Errorf("app %d: user find --phone %q does not find the user", tc.app, tc.input)
		}
	}
	// A national number of another region is not valid here.
	uid := newUsers(t, dir, gb.SdkAppId, "gb-other")[0]
	if r := runCLI(t, env, "user", "set", uid, "phone=13612346688"); r.code != 1 || !strings.Contains(r.stderr, "phone") {
		t.Errorf("a Chinese national number in a GB app: %s", r)
	}
	if r := runCLI(t, env, "app", "create", "--name", "nowhere", "--phone-region", "XX"); r.code != 2 || !strings.Contains(r.stderr, "--phone-region") {
		t.Errorf("app create --phone-region XX: %s", r)
	}
}

func TestUserRevealIsAudited(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	a := createApp(t, env, "shop")
	uid := newUsers(t, dir, a.SdkAppId, "alice")[0]
	mustRun(t, env, "user", "set", uid, "phone=13612346688")

	reveals := func() []auditOut { return auditEvents(t, env, "--action", "reveal") }
	getUser(t, env, uid)
	findUsers(t, env, "--app", strconv.FormatUint(a.SdkAppId, 10), "--origin-id", "alice")
	if evs := reveals(); len(evs) != 0 {
		t.Fatalf("masked reads wrote reveal events: %+v", evs)
	}
	if u := getUser(t, env, uid, "--reveal", "phone"); u.Phone != "+8613612346688" {
		t.Fatalf("user get --reveal phone: Phone = %q, want +8613612346688", u.Phone)
	}
	evs := reveals()
	if len(evs) != 1 {
		t.Fatalf("after one reveal: %d reveal events, want 1: %+v", len(evs), evs)
	}
	e := evs[0]
	me := operator().Name
	if !strings.HasPrefix(me, "cli:") || e.Actor != me || e.Field != "phone" || e.UserId != uid || e.SdkAppId != a.SdkAppId || e.Action != "reveal" {
		t.Errorf("reveal event %+v", e)
	}
	if _, err := time.Parse(time.RFC3339Nano, e.At); err != nil {
		t.Errorf("At %q: %v", e.At, err)
	}
	// Revealing through find is audited too; an empty field is not disclosed.
	mustRun(t, env, "user", "find", "--app", strconv.FormatUint(a.SdkAppId, 10), "--phone", "13612346688", "--reveal", "phone,email")
	evs = reveals()
	if len(evs) != 2 || evs[0].Field != "phone" || evs[0].Actor != me { // newest first
		t.Errorf("after a reveal through find: %+v", evs)
	}
	r := mustRun(t, env, "audit", "--action", "reveal")
	for _, s := range []string{"ACTOR", me, uid, "reveal", "phone"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("audit table lacks %q:\n%s", s, r.stdout)
		}
	}
}

func TestUserCommandErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	a := createApp(t, env, "shop")
	app := strconv.FormatUint(a.SdkAppId, 10)
	uid := newUsers(t, dir, a.SdkAppId, "alice")[0]
	mustRun(t, env, "user", "set", uid, "nickname=Alice")
	before := len(auditEvents(t, env, "--all"))

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"user", "set", uid, "favouriteColour=blue"}, 2, "thirdPartyIds.<provider>"},
		{[]string{"user", "set", uid, "nickname=Bob", "colour=blue"}, 2, "logonMode"},
		{[]string{"user", "set", uid, "nickname"}, 2, "field=value"},
		{[]string{"user", "set", uid, "=x"}, 2, "field=value"},
		{[]string{"user", "set", uid}, 2, "field=value"},
		{[]string{"user", "set", uid, "status=2"}, 2, "status"},
		{[]string{"user", "set", uid, "status="}, 2, "status"},
		{[]string{"user", "set", uid, "logonMode=api"}, 2, "logonMode"},
		{[]string{"user", "set", uid, "nickname=A", "nickname=B"}, 2, "twice"},
		{[]string{"user", "set", uid, "thirdPartyIds.=x"}, 2, "provider"},
		{[]string{"user", "set", uid, "phone=12345"}, 1, "phone"},
		{[]string{"user", "set", uid, "email=not-an-email"}, 1, "email"},
		{[]string{"user", "set", uid, "logonMode=99"}, 1, "logonMode"},
		{[]string{"user", "set", uid, "originId="}, 1, "originId"},
		{[]string{"user", "set", uid, "thirdPartyIds.myspace=x"}, 1, "myspace"},
		{[]string{"user", "set", uid, "nickname=Bob", "timezone=Mars/Olympus"}, 1, "timezone"},
		{[]string{"user", "set", "2ZZZZZZZZZZZZZZZZZZZZZZZZZZ", "nickname=Bob"}, 1, "not found"},
		{[]string{"user", "get"}, 2, "UserId"},
		{[]string{"user", "get", uid, "--reveal", "password"}, 2, "password"},
		{[]string{"user", "delete"}, 2, "UserId"},
		{[]string{"user", "frob"}, 2, "user frob"},
		{[]string{"user"}, 2, "subcommand"},
		{[]string{"user", "find", "--origin-id", "alice"}, 2, "--app"},
		{[]string{"user", "find", "--app", app}, 2, "exactly one"},
		{[]string{"user", "find", "--app", app, "--origin-id", "alice", "--email", "a@b.cn"}, 2, "exactly one"},
		{[]string{"user", "find", "--app", app, "--provider", "qq"}, 2, "--provider-user-id"},
		{[]string{"user", "find", "--app", app, "--provider-user-id", "1"}, 2, "--provider"},
		{[]string{"user", "find", "--app", app, "--provider", "myspace", "--provider-user-id", "1"}, 1, "myspace"},
		{[]string{"user", "find", "--app", "999", "--origin-id", "alice"}, 1, "not found"},
	} {
		r := runCLI(t, env, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: want exit %d and %q on stderr: %s", tc.args, tc.code, tc.want, r)
		}
		if r.stdout != "" {
			t.Errorf("%v printed to stdout:\n%s", tc.args, r.stdout)
		}
	}
	if u := getUser(t, env, uid); u.Nickname != "Alice" || u.Timezone != "" {
		t.Errorf("failed sets changed the user: %+v", u)
	}
	if after := len(auditEvents(t, env, "--all")); after != before {
		t.Errorf("failed commands wrote %d audit events", after-before)
	}
}

func TestAuditFilters(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	a := createApp(t, env, "shop")
	b := createApp(t, env, "mall")
	ua := newUsers(t, dir, a.SdkAppId, "a1", "a2")
	ub := newUsers(t, dir, b.SdkAppId, "b1")
	mustRun(t, env, "user", "set", ua[0], "phone=13612346688", "nickname=A")
	mustRun(t, env, "user", "set", ua[1], "email=a2@example.com")
	mustRun(t, env, "user", "set", ub[0], "phone=13612346688", "city=Shanghai")
	getUser(t, env, ua[0], "--reveal", "phone")
	getUser(t, env, ub[0], "--reveal", "all")
	mustRun(t, env, "user", "delete", ua[1])

	all := auditEvents(t, env)
	// 2 apps created with their first keys, 3 creates, 5 updates, 2
	// reveals and 1 delete.
	if len(all) != 15 {
		t.Fatalf("audit --json: %d events, want 15: %+v", len(all), all)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Id >= all[i-1].Id {
			t.Fatalf("events are not newest first: %+v", all)
		}
	}
	oldest := auditEvents(t, env, "--oldest-first")
	slices.Reverse(oldest)
	if fmt.Sprint(oldest) != fmt.Sprint(all) {
		t.Errorf("audit --oldest-first is not the same events in ID order:\n%+v\n%+v", oldest, all)
	}
	// The JSON has the REST API's names, each once.
	var raw []map[string]any
	decodeOne(t, mustRun(t, env, "audit", "--json", "--limit", "1").stdout, &raw)
	var names []string
	for name := range raw[0] {
		names = append(names, name)
	}
	slices.Sort(names)
	if want := []string{"action", "actor", "at", "field", "id", "reason", "requestId", "sdkAppId", "userId"}; !slices.Equal(names, want) {
		t.Errorf("audit --json names %v, want %v", names, want)
	}
	check := func(args []string, keep func(auditOut) bool) {
		t.Helper()
		got := auditEvents(t, env, args...)
		var want []auditOut
		for _, e := range all {
			if keep(e) {
				want = append(want, e)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("audit %v:\n got %+v\nwant %+v", args, got, want)
		}
	}
	check([]string{"--app", strconv.FormatUint(b.SdkAppId, 10)}, func(e auditOut) bool { return e.SdkAppId == b.SdkAppId })
	check([]string{"--user", ua[0]}, func(e auditOut) bool { return e.UserId == ua[0] })
	check([]string{"--field", "phone"}, func(e auditOut) bool { return e.Field == "phone" })
	check([]string{"--action", "update"}, func(e auditOut) bool { return e.Action == "update" })
	check([]string{"--action", "reveal", "--app", strconv.FormatUint(b.SdkAppId, 10)}, func(e auditOut) bool {
		return e.Action == "reveal" && e.SdkAppId == b.SdkAppId
	})
	check([]string{"--action", "delete"}, func(e auditOut) bool { return e.Action == "delete" && e.UserId == ua[1] })
	check([]string{"--actor", operator().Name}, func(e auditOut) bool { return true })
	check([]string{"--actor", "operator"}, func(e auditOut) bool { return false })
	check([]string{"--action", "app.create"}, func(e auditOut) bool { return e.Action == "app.create" })
	for _, e := range all {
		// Every change at the command line names the OS user who made it.
		if !strings.HasPrefix(e.Actor, "cli:") || e.Actor == "cli:" {
			t.Errorf("event %+v: made by %q", e, e.Actor)
		}
	}
	check([]string{"--actor", "key:" + a.SecretId}, func(auditOut) bool { return false })
	check([]string{"--user", ub[0], "--field", "email"}, func(e auditOut) bool { return e.UserId == ub[0] && e.Field == "email" })

	// Since is inclusive, until exclusive.
	mid := all[5].At
	midT, err := time.Parse(time.RFC3339Nano, mid)
	if err != nil {
		t.Fatal(err)
	}
	check([]string{"--since", mid}, func(e auditOut) bool { at, _ := time.Parse(time.RFC3339Nano, e.At); return !at.Before(midT) })
	check([]string{"--until", mid}, func(e auditOut) bool { at, _ := time.Parse(time.RFC3339Nano, e.At); return at.Before(midT) })
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	check([]string{"--since", future}, func(auditOut) bool { return false })
	check([]string{"--until", future, "--since", "2000-01-01T00:00:00+08:00"}, func(auditOut) bool { return true })

	// --limit takes the newest; stderr tells there are more.
	r := mustRun(t, env, "audit", "--json", "--limit", "4")
	var first []auditOut
	decodeOne(t, r.stdout, &first)
	if fmt.Sprint(first) != fmt.Sprint(all[:4]) {
		t.Errorf("audit --limit 4: %+v, want the first 4", first)
	}
	if !strings.Contains(r.stderr, "more") {
		t.Errorf("audit --limit 4 does not say more events match: %s", r)
	}
	if r := mustRun(t, env, "audit", "--json", "--limit", "15"); strings.Contains(r.stderr, "more") {
		t.Errorf("audit --limit 15 of 15 events says more match: %s", r)
	}

	r = mustRun(t, env, "audit", "--user", ua[0])
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 1+4 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "ACTION") {
		t.Errorf("audit table for %s: want a header and 4 rows:\n%s", ua[0], r.stdout)
	}
	if r := mustRun(t, env, "audit", "--actor", "nobody"); !strings.Contains(r.stdout, "No audit events") {
		t.Errorf("audit without a match:\n%s", r.stdout)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--since", "yesterday"}, "RFC 3339"},
		{[]string{"--until", "2024-13-01T00:00:00Z"}, "RFC 3339"},
		{[]string{"--action", "peek"}, "peek"},
		{[]string{"--limit", "0"}, "--limit"},
		{[]string{"--limit", "501"}, "--limit"},
		{[]string{"--all", "--limit", "5"}, "--all"},
		{[]string{"--since", future, "--until", mid}, "--until"},
		{[]string{"--app", "x"}, "flag --app"},
		{[]string{"extra"}, "no arguments"},
	} {
		r := runCLI(t, env, append([]string{"audit"}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("audit %v: want exit 2 naming %q: %s", tc.args, tc.want, r)
		}
	}
}

func TestAuditAllPages(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	a := createApp(t, env, "shop")
	// More events than one page holds.
	n := core.MaxListLimit + 37
	regs := make([]svctest.Registration, n)
	for i := range regs {
		regs[i] = svctest.Registration{SdkAppID: a.SdkAppId, Name: "u", OriginID: "o" + strconv.Itoa(i)}
	}
	inst := openDir(t, dir)
	if _, err := svctest.BatchRegister(inst.svc, context.Background(), operator(), regs); err != nil {
		t.Fatal(err)
	}
	inst.Close()

	evs := auditEvents(t, env, "--all")
	if len(evs) != n+2 { // and the app's creation and its first key's
		t.Fatalf("audit --all: %d events, want %d", len(evs), n+2)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Id >= evs[i-1].Id {
			t.Fatalf("audit --all: event %d has ID %d after %d", i, evs[i].Id, evs[i-1].Id)
		}
	}
	oldest := auditEvents(t, env, "--all", "--oldest-first")
	if len(oldest) != len(evs) {
		t.Fatalf("audit --all --oldest-first: %d events, want %d", len(oldest), len(evs))
	}
	for i := range oldest {
		if oldest[i].Id != evs[len(evs)-1-i].Id {
			t.Fatalf("audit --all --oldest-first: event %d has ID %d, want %d", i, oldest[i].Id, evs[len(evs)-1-i].Id)
		}
	}
	if evs := auditEvents(t, env); len(evs) != core.DefaultListLimit {
		t.Errorf("audit without --all: %d events, want the default limit %d", len(evs), core.DefaultListLimit)
	}
	r := mustRun(t, env, "audit", "--all")
	if rows := strings.Count(r.stdout, "\n"); rows != n+3 {
		t.Errorf("audit --all table: %d lines, want %d and a header", rows, n+2)
	}
	if strings.Contains(r.stderr, "more") {
		t.Errorf("audit --all says more events match: %s", r.stderr)
	}
}
