package usercenter

import (
	"strings"
	"testing"
	"time"
)

func TestCheckOriginID(t *testing.T) {
	for _, s := range []string{"", "u1", "user-001@example.com", "用户1", strings.Repeat("x", MaxOriginIDLen)} {
		if err := CheckOriginID("OriginId", s); err != nil {
			t.Errorf("CheckOriginID(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range []string{"a b", "a\tb", "a\x00", "a\x7f", "\xff", strings.Repeat("x", MaxOriginIDLen+1), strings.Repeat("用", 43)} {
		wantInvalid(t, CheckOriginID("OriginId", s), "OriginId")
	}
}

func TestCheckNickname(t *testing.T) {
	for _, s := range []string{"", "慕之鸣", "Mu Zhiming", strings.Repeat("名", MaxNicknameLen)} {
		if err := CheckNickname("Name", s); err != nil {
			t.Errorf("CheckNickname(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range []string{strings.Repeat("名", MaxNicknameLen+1), "a\nb", "\xff"} {
		wantInvalid(t, CheckNickname("Name", s), "Name")
	}
}

func TestCheckAvatar(t *testing.T) {
	for _, s := range []string{"", "https://example.com/a.png", "http://127.0.0.1:8080/a?b=c"} {
		if err := CheckAvatar("Avatar", s); err != nil {
			t.Errorf("CheckAvatar(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range []string{
		"example.com/a.png", "ftp://example.com/a", "https://", "https:///a.png", "javascript:alert(1)",
		"https://example.com/a b.png", "https://example.com/\n", "https://example.com/" + strings.Repeat("a", MaxAvatarLen),
	} {
		wantInvalid(t, CheckAvatar("Avatar", s), "Avatar")
	}
}

func TestUserIDs(t *testing.T) {
	now := time.Now()
	id := NewUserID(now)
	if len(id) != 27 || !ValidUserID(id) {
		t.Fatalf("NewUserID = %q is not a valid user ID", id)
	}
	if err := CheckUserID("UserId", id); err != nil {
		t.Fatal(err)
	}
	later := NewUserID(now.Add(2 * time.Second))
	if later <= id {
		t.Errorf("user IDs do not sort by time: %q then %q", id, later)
	}
	for _, s := range []string{"", "short", id + "x", id[:26] + "!"} {
		if ValidUserID(s) {
			t.Errorf("ValidUserID(%q) = true", s)
		}
		wantInvalid(t, CheckUserID("UserId", s), "UserId")
	}
}

func TestLogonModeAndProvider(t *testing.T) {
	for m := LogonUnknown; m <= LogonAPI; m++ {
		if !m.Valid() {
			t.Errorf("LogonMode(%d).Valid() = false", m)
		}
	}
	for _, m := range []LogonMode{-1, LogonAPI + 1, 100} {
		if m.Valid() {
			t.Errorf("LogonMode(%d).Valid() = true", m)
		}
	}
	for _, p := range Providers {
		if !p.Known() {
			t.Errorf("%q.Known() = false", p)
		}
	}
	for _, p := range []Provider{"", "wechat", "QQ", "google"} {
		if p.Known() {
			t.Errorf("%q.Known() = true", p)
		}
	}
}
