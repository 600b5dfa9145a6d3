package bench

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"usercenter/uctest"
)

// TestTC3MatchesOfficialSDK sends a request through the official Go SDK,
// then signs the same body at the same second with the bench's signer:
// the Authorization headers must be identical.
func TestTC3MatchesOfficialSDK(t *testing.T) {
	type captured struct {
		body               []byte
		auth, ts, ct, host string
	}
	got := make(chan captured, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- captured{b, r.Header.Get("Authorization"), r.Header.Get("X-TC-Timestamp"), r.Header.Get("Content-Type"), r.Host}
		w.Write([]byte(`{"Response":{"RequestId":"x"}}`))
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	const id, key = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"

	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = host
	cpf.HttpProfile.Scheme = "HTTP"
	client := common.NewCommonClient(common.NewCredential(id, key), "", cpf)
	req := tchttp.NewCommonRequest("lcic", lcicVer, "DescribeUser")
	if err := req.SetActionParameters(map[string]any{"UserId": "2zNkbGhJ3Rf6H4oqQ2nX5c9cVxV"}); err != nil {
		t.Fatal(err)
	}
	if err := client.Send(req, tchttp.NewCommonResponse()); err != nil {
		t.Fatal(err)
	}
	c := <-got
	if c.ct != "application/json" || c.host != host {
		t.Fatalf("the SDK sent Content-Type %q and Host %q; the signer assumes application/json and host:port", c.ct, c.host)
	}
	sec, err := strconv.ParseInt(c.ts, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	s := newTC3Signer(id, key, host)
	var st tc3State
	ts, auth := s.sign(&st, c.body, time.Unix(sec, 0))
	if ts != c.ts || auth != c.auth {
		t.Fatalf("bench signer:\n  %s %s\nofficial SDK:\n  %s %s", ts, auth, c.ts, c.auth)
	}

	// And against the tests' independent signer, across a date change and
	// with the worker's state reused.
	for _, at := range []time.Time{time.Date(2026, 11, 22, 23, 59, 59, 0, time.UTC), time.Date(2026, 11, 23, 0, 0, 1, 0, time.UTC)} {
		body := []byte(`{"SdkAppId":1400000001,"Name":"x"}`)
		r := httptest.NewRequest("POST", "http://"+host+"/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		uctest.SignTC3(r, body, id, key, "", at, nil, "")
		ts, auth := s.sign(&st, body, at)
		if ts != r.Header.Get("X-TC-Timestamp") || auth != r.Header.Get("Authorization") {
			t.Fatalf("at %v: bench %s, uctest %s", at, auth, r.Header.Get("Authorization"))
		}
	}
}

func TestTC3SignAllocations(t *testing.T) {
	s := newTC3Signer("AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", "127.0.0.1:8080")
	var st tc3State
	body := []byte(`{"UserId":"2zNkbGhJ3Rf6H4oqQ2nX5c9cVxV"}`)
	now := time.Now()
	s.sign(&st, body, now)
	// The Authorization string is the one allocation a request needs.
	if n := testing.AllocsPerRun(1000, func() { s.sign(&st, body, now) }); n > 1 {
		t.Fatalf("signing allocates %v times", n)
	}
}

func TestSuperAppVectors(t *testing.T) {
	// docs/superapp.md
	s, err := newSuperAppSigner("0123456789abcdef", "aes-ecb-hex")
	if err != nil {
		t.Fatal(err)
	}
	var st superAppState
	ts, sig := s.headers(&st, time.UnixMilli(1735293931220))
	if ts != "1735293931220" || sig != "38cfaad10e5fb0a6d28d7540e21156d2" {
		t.Fatalf("TC-Timestamp %s TC-Signature %s", ts, sig)
	}
	for cipherName, value := range map[string]string{
		"aes-ecb-hex":    "bd5c99a327a86ec4eb5fd969a8860338",
		"aes-cbc-base64": "Cpg16ybqejTI9z5dFlVJXg==",
		"aes-gcm-base64": "dOftLTRRR/isvvb/P4eWfVvhgNOwvuo3Lg/WqX6T3q9Xv1lKW5M76gVJ",
	} {
		s, err := newSuperAppSigner("0123456789abcdef", cipherName)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := s.decrypt(nil, []byte(value))
		if err != nil || string(plain) != "+8613612346688" {
			t.Errorf("%s: %q, %v", cipherName, plain, err)
		}
	}
}

func TestAccessKeyLoginVector(t *testing.T) {
	// docs/enterprise.md
	u, p := accessKeyLogin("AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", time.UnixMilli(1700000000000))
	if u != "ver=1&auth_mode=accessKey&sign_method=sha256&access_key=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&timestamp=1700000000000" ||
		p != "377bde10e72af0eeb0544656036e7f8df310448cbbeaec8a9f3bde5fd236b269" {
		t.Fatalf("username %s password %s", u, p)
	}
}

func TestSeededValues(t *testing.T) {
	if got := string(appendPhone(nil, 1234)); got != "+8613900001234" {
		t.Errorf("phone %s", got)
	}
	if got := string(appendPhone(nil, 99999999)); got != "+8613999999999" {
		t.Errorf("phone %s", got)
	}
	if got := string(appendEmail(nil, "abc", 7)); got != "u7.abc@bench.example" {
		t.Errorf("email %s", got)
	}
	if len(staticDoc) != docSize {
		t.Errorf("the static document is %d bytes", len(staticDoc))
	}
}
