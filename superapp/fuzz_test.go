package superapp_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/server"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

var fuzzEndpoints = []string{"checkUser", "getUserAvatar", "getUserNick", "getUserInfoTemporaryCode", "getUserPhoneNumber", "getUserEmail"}

// FuzzRequest sends arbitrary bodies and queries, correctly signed, to
// every endpoint through the whole handler. Whatever the bytes, the answer
// is the envelope, never a 500; business results are 200 with one of the
// platform's codes, and only a success carries Data.
//
//	go test ./superapp -run '^$' -fuzz FuzzRequest -fuzztime 60s
func FuzzRequest(f *testing.F) {
	env := uctest.New(f, uctest.Options{RateLimit: 100_000})
	u, err := svctest.CreateUser(env.Svc, bg, usercenter.Operator(), env.App.SdkAppID, core.UserPatch{Nickname: ptr("n"), Phone: ptr(phone), Email: ptr(email)})
	if err != nil {
		f.Fatal(err)
	}
	h := server.NewHandler(env.Svc, slog.New(slog.NewJSONHandler(io.Discard, nil)), server.NewRegistry())
	for _, seed := range []string{
		`{"UserId":"` + u.ID + `"}`,
		`{"userId":"` + u.ID + `","type":"phone"}`,
		`{"UserId":"` + u.ID + `","TemporaryCode":"abc"}`,
		`{"UserId":1,"Type":null,"TemporaryCode":[{}]}`,
		`{"UserId":"a","userid":"b"}`,
		`{"a":[[[[]]]]}`,
		"{\"UserId\":\"\xff\"}",
		`[]`, ``, `{`, `"x"`, `{"UserId":"\ud800"}`,
	} {
		f.Add(uint8(0), []byte(seed), "")
		f.Add(uint8(3), []byte(seed), "")
	}
	f.Add(uint8(2), []byte{}, "UserId="+u.ID)
	f.Add(uint8(9), []byte{}, "userId=%ff&type=email")
	f.Add(uint8(5), []byte{}, "UserId=%zz;;&&==")
	f.Fuzz(func(t *testing.T, sel uint8, body []byte, query string) {
		ep := fuzzEndpoints[int(sel)%len(fuzzEndpoints)]
		path := forms[int(sel/8)%len(forms)] + ep
		if sel&0x80 != 0 {
			path = "/apps/" + strconv.FormatUint(env.App.SdkAppID, 10) + path
		}
		method := "POST"
		if sel&0x40 != 0 {
			method = "GET"
		}
		r := httptest.NewRequest(method, "http://usercenter"+path, bytes.NewReader(body))
		r.URL.RawQuery = query
		ts := strconv.FormatInt(env.Clock.Now().UnixMilli(), 10)
		r.Header.Set("TC-Timestamp", ts)
		r.Header.Set("TC-Signature", sign(t, env.App.SuperAppSecretKey, ts))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		checkAnswer(t, w.Code, w.Body.Bytes())
	})
}

// checkAnswer asserts the invariants of every answer.
func checkAnswer(t *testing.T, status int, body []byte) {
	t.Helper()
	if status >= 500 {
		t.Fatalf("status %d: %s", status, body)
	}
	var e struct {
		ReturnCode    *string
		ReturnMessage *string
		Data          json.RawMessage
		RequestId     *string
	}
	if err := json.Unmarshal(body, &e); err != nil || e.ReturnCode == nil || e.ReturnMessage == nil || e.RequestId == nil {
		t.Fatalf("status %d: not the envelope (%v): %q", status, err, body)
	}
	if status == http.StatusOK {
		msg, ok := seedMessages[*e.ReturnCode]
		if !ok || msg != *e.ReturnMessage {
			t.Fatalf("200 with code %q message %q", *e.ReturnCode, *e.ReturnMessage)
		}
	} else if *e.ReturnCode != strconv.Itoa(status) {
		t.Fatalf("status %d with ReturnCode %q", status, *e.ReturnCode)
	}
	if (*e.ReturnCode == "0") != (e.Data != nil) {
		t.Fatalf("Data on %q: %s", *e.ReturnCode, body)
	}
}
