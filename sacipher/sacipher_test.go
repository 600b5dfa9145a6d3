package sacipher_test

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/hex"
	"testing"

	"usercenter"
	"usercenter/sacipher"
)

// The signatures of docs/superapp.md, computed with openssl enc.
func TestSignatureVectors(t *testing.T) {
	for _, c := range []struct{ key, ts, want string }{
		{"0123456789abcdef", "1735293931220", "38cfaad10e5fb0a6d28d7540e21156d2"},
		{"0123456789abcdef0123456789abcdef", "1735293931220", "afe1482bbacad51ee22b630d3d68749d"},
	} {
		if got, err := sacipher.Signature(c.key, c.ts); err != nil || got != c.want {
			t.Errorf("Signature(%d-byte key) = %q, %v; want %q", len(c.key), got, err, c.want)
		}
	}
	if _, err := sacipher.Signature("short", "1"); err == nil {
		t.Error("a 5-byte key signed")
	}
}

// Each cipher decrypts, with the standard library's primitives used as
// the platform uses them, to the value encrypted.
func TestEncryptDecrypts(t *testing.T) {
	key := "0123456789abcdef0123456789abcdef"
	const value = "+8613612346688"
	block, _ := aes.NewCipher([]byte(key))
	unpad := func(b []byte) string {
		n := int(b[len(b)-1])
		if n < 1 || n > aes.BlockSize {
			t.Fatalf("bad padding %d", n)
		}
		return string(b[:len(b)-n])
	}
	for _, c := range []usercenter.SuperAppCipher{usercenter.CipherAESECBHex, usercenter.CipherAESCBCBase64, usercenter.CipherAESGCMBase64} {
		out, err := sacipher.Encrypt(c, key, value)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		var got string
		switch c {
		case usercenter.CipherAESECBHex:
			ct, _ := hex.DecodeString(out)
			pt := make([]byte, len(ct))
			for i := 0; i < len(ct); i += aes.BlockSize {
				block.Decrypt(pt[i:i+aes.BlockSize], ct[i:i+aes.BlockSize])
			}
			got = unpad(pt)
		case usercenter.CipherAESCBCBase64:
			ct, _ := base64.StdEncoding.DecodeString(out)
			pt := make([]byte, len(ct))
			cipher.NewCBCDecrypter(block, []byte(key)[:aes.BlockSize]).CryptBlocks(pt, ct)
			got = unpad(pt)
		case usercenter.CipherAESGCMBase64:
			ct, _ := base64.StdEncoding.DecodeString(out)
			gcm, _ := cipher.NewGCM(block)
			pt, err := gcm.Open(nil, ct[:gcm.NonceSize()], ct[gcm.NonceSize():], nil)
			if err != nil {
				t.Fatalf("%s: %v", c, err)
			}
			got = string(pt)
		}
		if got != value {
			t.Errorf("%s: decrypted %q, want %q", c, got, value)
		}
	}
	if _, err := sacipher.Encrypt("aes-ctr", key, value); err == nil {
		t.Error("an unknown cipher encrypted")
	}
}
