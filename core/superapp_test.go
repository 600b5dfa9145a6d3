package core_test

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/sacipher"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

// TestSuperAppEncrypt checks each cipher against the standard library's
// own decryption, for every key length.
func TestSuperAppEncrypt(t *testing.T) {
	for _, key := range []string{"0123456789abcdef", "0123456789abcdefghijklmn", "0123456789abcdefghijklmnopqrstuv"} {
		block, err := aes.NewCipher([]byte(key))
		if err != nil {
			t.Fatal(err)
		}
		for _, pt := range []string{"", "+8613612346688", "0123456789abcdef", "murphyng@tencent.com", "ü@例え.jp"} {
			// aes-ecb-hex
			v, err := sacipher.Encrypt(usercenter.CipherAESECBHex, key, pt)
			if err != nil {
				t.Fatal(err)
			}
			ct, err := hex.DecodeString(v)
			if err != nil || strings.ToLower(v) != v || len(ct) != (len(pt)/16+1)*16 {
				t.Fatalf("ecb %q: %q", pt, v)
			}
			out := make([]byte, len(ct))
			for i := 0; i < len(ct); i += 16 {
				block.Decrypt(out[i:], ct[i:i+16])
			}
			if got := string(out[:len(out)-int(out[len(out)-1])]); got != pt {
				t.Fatalf("ecb: %q, want %q", got, pt)
			}
			// aes-cbc-base64
			v, err = sacipher.Encrypt(usercenter.CipherAESCBCBase64, key, pt)
			if err != nil {
				t.Fatal(err)
			}
			ct, err = base64.StdEncoding.DecodeString(v)
			if err != nil {
				t.Fatal(err)
			}
			out = make([]byte, len(ct))
			cipher.NewCBCDecrypter(block, []byte(key[:16])).CryptBlocks(out, ct)
			if got := string(out[:len(out)-int(out[len(out)-1])]); got != pt {
				t.Fatalf("cbc: %q, want %q", got, pt)
			}
			// aes-gcm-base64
			v, err = sacipher.Encrypt(usercenter.CipherAESGCMBase64, key, pt)
			if err != nil {
				t.Fatal(err)
			}
			ct, err = base64.StdEncoding.DecodeString(v)
			if err != nil {
				t.Fatal(err)
			}
			gcm, _ := cipher.NewGCM(block)
			got, err := gcm.Open(nil, ct[:12], ct[12:], nil)
			if err != nil || string(got) != pt {
				t.Fatalf("gcm: %q, %v; want %q", got, err, pt)
			}
		}
	}
	if _, err := sacipher.Encrypt("rot13", "0123456789abcdef", "x"); err == nil {
		t.Error("an unknown cipher encrypted")
	}
	if _, err := sacipher.Encrypt(usercenter.CipherAESECBHex, "short", "x"); err == nil {
		t.Error("a 5-byte key encrypted")
	}
}

func TestUpdateApp(t *testing.T) {
	env := uctest.New(t)
	id := env.App.SdkAppID
	key := "ABCDEFGHIJKLMNOPQRSTUVWX"
	cbc := usercenter.CipherAESCBCBase64
	app, err := env.Svc.UpdateApp(bg, usercenter.Operator(), id, core.AppPatch{
		Name: ptr("renamed"), Status: ptr(usercenter.AppDisabled), RateLimit: ptr(7), TokenTTL: ptr(time.Hour),
		PhoneRegion: ptr("US"), SuperAppSecretKey: ptr(key), SuperAppCipher: &cbc, CodeTTL: ptr(2 * time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := svctest.AppWithSecret(env.Svc, bg, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []*usercenter.App{app, stored} {
		if a.Name != "renamed" || a.Status != usercenter.AppDisabled || a.RateLimit != 7 || a.TokenTTL != time.Hour ||
			a.PhoneRegion != "US" || a.SuperAppSecretKey != key || a.SuperAppCipher != cbc || a.CodeTTL != 2*time.Minute ||
			a.UserDomain != env.App.UserDomain || !a.CreatedAt.Equal(env.App.CreatedAt) {
			t.Fatalf("app after update: %+v", a)
		}
	}
	// The new secret is sealed, never stored in plain.
	vals, err := env.Store.SealedValues(bg, core.SealedAppSecret, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != 1 || strings.Contains(string(vals[0].Value), key) {
		t.Fatalf("sealed secrets: %d, plain key stored: %v", len(vals), len(vals) == 1 && strings.Contains(string(vals[0].Value), key))
	}
	// An empty patch changes nothing.
	same, err := env.Svc.UpdateApp(bg, usercenter.Operator(), id, core.AppPatch{})
	unchanged := *stored
	unchanged.SuperAppSecretKey = "" // shown only when replaced
	if err != nil || *same != unchanged {
		t.Fatalf("empty patch: %+v, %v", same, err)
	}

	bad := usercenter.SuperAppCipher("aes-ctr")
	for name, p := range map[usercenter.Field]core.AppPatch{
		usercenter.FieldAppName:           {Name: ptr("")},
		usercenter.FieldAppStatus:         {Status: ptr(usercenter.AppStatus(7))},
		usercenter.FieldRateLimit:         {RateLimit: ptr(0)},
		usercenter.FieldTokenTTL:          {TokenTTL: ptr(time.Second)},
		usercenter.FieldPhoneRegion:       {PhoneRegion: ptr("XX")},
		usercenter.FieldSuperAppSecretKey: {SuperAppSecretKey: ptr("0123456789abcde")},
		usercenter.FieldSuperAppCipher:    {SuperAppCipher: &bad},
		usercenter.FieldCodeTTL:           {CodeTTL: ptr(2 * time.Hour)},
	} {
		_, err := env.Svc.UpdateApp(bg, usercenter.Operator(), id, p)
		if e := usercenter.ErrorOf(err); e.Code != usercenter.EInvalid || e.Field != name {
			t.Errorf("%s: %v, want invalid %s", name, err, name)
		}
	}
	after, _ := svctest.AppWithSecret(env.Svc, bg, id)
	if *after != *stored {
		t.Fatalf("a refused update changed the app: %+v", after)
	}
	_, err = env.Svc.UpdateApp(bg, usercenter.Operator(), 999, core.AppPatch{Name: ptr("x")})
	wantCode(t, err, usercenter.ENotFound)
}
