package sqlite

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// TestPackedUserRow reads users whose text holds everything JSON must
// escape, and what only looks like JSON, back exactly.
func TestPackedUserRow(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1, 1<<63+5) // an SdkAppId SQLite stores as a negative int64
	texts := []string{
		"", `"`, `\`, `\"`, `","`, `[1,2]`, "null", "-12", "a,b", "tab\there", "nl\nline", "\x00nul", "\x1f",
		"張三 & co=1", "emoji 😀", "\u2028\u2029", "</script>", `{"a":"b"}`, "\\u0041",
	}
	var users []*core.UserRecord
	for i, text := range texts {
		app := uint64(1)
		if i%2 == 1 {
			app = 1<<63 + 5
		}
		u := newUser(app, fmt.Sprintf("origin %d %s", i, text), base.Add(time.Duration(i)))
		u.Nickname, u.Avatar, u.City, u.Province, u.Nationality = text, text+"a", text+"c", text+"p", text+"n"
		u.Lang, u.Timezone, u.Sex, u.Signature, u.Remark = text+"l", text+"t", text+"s", text+"g", text+"r"
		u.Status = usercenter.UserStatus(i % 2)
		u.LogonMode = usercenter.LogonMode(i % 5)
		if i%3 == 0 {
			u.LastLoginAt = base.Add(time.Duration(i) * time.Hour)
		}
		u.SealedPhone = []byte(text + "phone")
		u.ThirdParty = map[usercenter.Provider]string{usercenter.ProviderQQ: "qq" + fmt.Sprint(i)}
		addUser(t, s, u)
		users = append(users, u)
	}
	for _, u := range users {
		got, err := s.User(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantUser(t, got, u)
	}
	// Cards are packed too, from their own index.
	for _, u := range users {
		want := core.UserCard{ID: u.ID, SdkAppID: u.SdkAppID, OriginID: u.OriginID, Status: u.Status, Nickname: u.Nickname, Avatar: u.Avatar}
		got, err := s.UserCard(ctx, u.ID)
		if err != nil || *got != want {
			t.Errorf("UserCard(%s) = %+v, %v; want %+v", u.ID, got, err, want)
		}
		got, err = s.UserCardInApp(ctx, u.SdkAppID, u.ID)
		if err != nil || *got != want {
			t.Errorf("UserCardInApp(%d, %s) = %+v, %v; want %+v", u.SdkAppID, u.ID, got, err, want)
		}
		cards, err := s.UserCardsByOrigin(ctx, []uint64{u.SdkAppID}, u.OriginID)
		if err != nil || len(cards) != 1 || cards[0] != want {
			t.Errorf("UserCardsByOrigin(%d, %q) = %+v, %v; want %+v", u.SdkAppID, u.OriginID, cards, err, want)
		}
	}
	list, err := s.UsersAfter(ctx, 1, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range list {
		for _, u := range users {
			if u.ID == got.ID {
				wantUser(t, &got, u)
			}
		}
	}
}

// FuzzSplitJSONArray checks the splitter against encoding/json on what
// encoding/json writes.
func FuzzSplitJSONArray(f *testing.F) {
	f.Add("a", int64(1), "b", true)
	f.Add(`"\`, int64(-1), "\x00\u2028", false)
	f.Fuzz(func(t *testing.T, a string, n int64, b string, null bool) {
		var third any = b
		if null {
			third = nil
		}
		src, err := json.Marshal([]any{a, n, third, b})
		if err != nil {
			return
		}
		var want []any
		if err := json.Unmarshal(src, &want); err != nil {
			t.Fatal(err)
		}
		var got [4]jsonValue
		if err := splitJSONArray(string(src), got[:]); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if got[0].kind != 's' || got[0].text != want[0] {
			t.Fatalf("%s: value 0 %+v, want %q", src, got[0], want[0])
		}
		if got[1].kind != 'n' || got[1].text != fmt.Sprint(n) {
			t.Fatalf("%s: value 1 %+v, want %d", src, got[1], n)
		}
		if null && got[2].kind != '0' || !null && (got[2].kind != 's' || got[2].text != want[2]) {
			t.Fatalf("%s: value 2 %+v, want %v", src, got[2], want[2])
		}
		if got[3].text != want[3] {
			t.Fatalf("%s: value 3 %+v, want %q", src, got[3], want[3])
		}
		var short [3]jsonValue
		if splitJSONArray(string(src), short[:]) == nil {
			t.Fatalf("%s split into 3 values", src)
		}
		var long [5]jsonValue
		if splitJSONArray(string(src), long[:]) == nil {
			t.Fatalf("%s split into 5 values", src)
		}
	})
}
