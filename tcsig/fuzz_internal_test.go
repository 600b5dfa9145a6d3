package tcsig

import (
	"reflect"
	"strings"
	"testing"
)

func FuzzParseAuthorization(f *testing.F) {
	sig := strings.Repeat("0123456789abcdef", 4)
	for _, s := range []string{
		"TC3-HMAC-SHA256 Credential=AKIDx/2026-11-21/lcic/tc3_request, SignedHeaders=content-type;host, Signature=" + sig,
		"TC3-HMAC-SHA256 Credential=AKIDx/2026-11-21/127/tc3_request,SignedHeaders=content-type;host;x-tc-action,   Signature=" + sig,
		"TC3-HMAC-SHA256 Credential=a/2000-02-29/s/tc3_request, SignedHeaders=content-type;host, Signature=" + sig,
		"TC3-HMAC-SHA256 Credential=AKIDx/2026-11-21/lcic/tc3_request, SignedHeaders=host;content-type, Signature=" + sig,
		"TC3-HMAC-SHA256 Credential=AKIDx/2026-11-21/lcic/tc3_request/x, SignedHeaders=content-type;host, Signature=" + sig,
		"TC3-HMAC-SHA256 ",
		"TC3-HMAC-SHA256 ,,",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseAuthorization(s)
		if err != nil {
			if err.Kind != InvalidAuthorization || err.Msg == "" {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		// Rendering and re-parsing an accepted header is a fixed point.
		out := a.String()
		b, err := parseAuthorization(out)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", out, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip changed %+v into %+v", a, b)
		}
		// The only freedom the parser allows is spacing after commas (and
		// the single space after the algorithm): nothing else may be dropped
		// or reinterpreted.
		if strings.ReplaceAll(s, " ", "") != strings.ReplaceAll(out, " ", "") {
			t.Fatalf("accepted %q but it renders as %q", s, out)
		}
		if !strings.HasPrefix(s, tc3Algorithm+" Credential=") {
			t.Fatalf("accepted %q without the exact prefix", s)
		}
		if len(a.Signature) != 64 || a.SecretID == "" || a.Service == "" || len(a.SignedHeaders) < 2 {
			t.Fatalf("accepted incomplete %+v", a)
		}
	})
}
