package usercenter

import (
	"strings"
	"testing"
)

func TestClipName(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"", 4, ""},
		{"abcd", 4, "abcd"},
		{"abcde", 4, "abcd…"},
		{"ab用户", 4, "ab…"},               // 用 is 3 bytes and does not fit
		{"ab用户", 5, "ab用…"},              // it does now
		{"用户", 3, "用…"},                  // a whole rune and no more
		{"\x80\x80\x80\x80\x80", 3, "…"}, // no rune starts within max
		{strings.Repeat("x", 40), 32, strings.Repeat("x", 32) + "…"},
	} {
		if got := ClipName(c.in, c.max); got != c.want {
			t.Errorf("ClipName(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}
