package enterprise_test

import (
	"net/http"
	"strings"
	"testing"

	"usercenter/uctest"
)

// TestBadInput sends every kind of bad input a client can produce. Each
// gets its code in the envelope (call refuses anything but HTTP 200, and
// code 50000), and none changes the user.
func TestBadInput(t *testing.T) {
	env := uctest.New(t)
	u := newUser(t, env, env.App.SdkAppID, ptrPatch("Victim"))
	tok := login(t, env, env.Key)
	d := "userDomain=" + env.App.UserDomain
	list := pathDomainUserList + "?" + d

	for _, c := range []struct {
		name  string
		path  string
		token string
		code  int
	}{
		// Paging.
		{"page not a number", list + "&page=x", tok, 50005},
		{"pageSize not a number", list + "&pageSize=ten", tok, 50005},
		{"page fraction", list + "&page=1.5", tok, 50005},
		{"page with a sign", list + "&page=%2B1", tok, 50005},
		{"page negative", list + "&page=-1", tok, 50005},
		{"page zero", list + "&page=0", tok, 50005},
		{"page empty", list + "&page=", tok, 50005},
		{"page beyond int32", list + "&page=2147483648", tok, 50005},
		{"page huge", list + "&page=99999999999999999999999", tok, 50005},
		{"page hex", list + "&page=0x10", tok, 50005},
		{"page with spaces", list + "&page=%201", tok, 50005},
		{"pageSize zero", list + "&pageSize=0", tok, 50005},
		{"pageSize negative", list + "&pageSize=-5", tok, 50005},
		{"pageSize empty", list + "&pageSize=", tok, 50005},
		{"pageSize exponent", list + "&pageSize=1e2", tok, 50005},
		{"page twice", list + "&page=1&page=2", tok, 50005},
		{"domain list page x", pathDomainList + "?page=x", tok, 50005},
		{"domain list pageSize -1", pathDomainList + "?pageSize=-1", tok, 50005},
		{"huge pageSize is capped", list + "&pageSize=1000000", tok, 200},
		{"domain list huge pageSize is capped", pathDomainList + "?pageSize=99999999999999999999", tok, 200},
		// Encodings.
		{"malformed query", pathUserInfo + "?uid=%zz", tok, 50005},
		{"malformed query on a list", list + "&page=%", tok, 50005},
		{"non-UTF-8 uid", pathUserInfo + "?uid=%ff%fe", tok, 50005},
		{"non-UTF-8 domain", pathDomainUserList + "?userDomain=%c3%28", tok, 50005},
		{"non-UTF-8 parameter name", pathUserInfo + "?uid=" + u.ID + "&%ff=1", tok, 50005},
		{"NUL in uid", pathUserInfo + "?uid=a%00b", tok, 50005},
		{"uid twice", pathUserInfo + "?uid=" + u.ID + "&uid=" + u.ID, tok, 50005},
		{"huge query", pathUserInfo + "?uid=" + u.ID + "&pad=" + strings.Repeat("x", 9000), tok, 50005},
		{"status twice", pathSetUserStatus + "?uid=" + u.ID + "&status=0&status=1", tok, 50005},
		{"unknown parameters are ignored", pathUserInfo + "?uid=" + u.ID + "&lang=en", tok, 200},
		// Tokens.
		{"non-UTF-8 token", pathUserInfo + "?uid=" + u.ID, "QJWT \xff\xfe", 5032},
		{"token of spaces after the prefix", pathUserInfo + "?uid=" + u.ID, "QJWT      ", 5106},
		// Login.
		{"missing grant_type", pathLogin + "?username=x&password=y", "", 50005},
		{"malformed username encoding", pathLogin + "?grant_type=password&username=ver%3D1%26%&password=" + strings.Repeat("0", 64), "", 50005},
		{"non-UTF-8 password", pathLogin + "?grant_type=password&username=ver%3D1&password=%ff", "", 50005},
		{"no parameters", pathLogin, "", 50005},
		{"refresh without parameters", pathRefresh, "", 50005},
	} {
		t.Run(c.name, func(t *testing.T) {
			get(t, env, c.path, c.token).want(t, c.code, "")
		})
	}

	// A token after "Bearer ", the habit of OAuth APIs, is refused with
	// the advice to drop it; the same token bare works.
	t.Run("Bearer scheme", func(t *testing.T) {
		for _, h := range []string{"Bearer " + tok, "bearer  " + tok, "Bearer"} {
			r := get(t, env, pathUserInfo+"?uid="+u.ID, h).want(t, 5032, "")
			if !strings.Contains(r.ExtMsg, `drop "Bearer "`) {
				t.Errorf("Authorization %q: extMsg %q does not say to drop \"Bearer \"", h, r.ExtMsg)
			}
		}
		get(t, env, pathUserInfo+"?uid="+u.ID, tok).want(t, 200, "")
	})

	t.Run("oversized form body", func(t *testing.T) {
		req, _ := http.NewRequest("POST", env.URL+pathLogin, strings.NewReader("grant_type=password&pad="+strings.Repeat("p", 10000)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		send(t, req).want(t, 50005, "")
	})
	t.Run("malformed form body", func(t *testing.T) {
		req, _ := http.NewRequest("POST", env.URL+pathRefresh, strings.NewReader("grant_type=refresh_token&refresh_token=%zz"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		send(t, req).want(t, 50005, "")
	})

	if got := userInfo(t, env, tok, u.ID); got.Status != 1 || got.NikeName != "Victim" {
		t.Fatalf("bad input changed the user: %+v", got)
	}
	if strings.Contains(env.Log.String(), `"level":"ERROR"`) {
		t.Fatalf("bad input logged an error:\n%s", env.Log.String())
	}
}
