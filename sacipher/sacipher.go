// Package sacipher holds the Super App as a Service platform's two
// formulas over an app's SuperAppSecretKey: the TC-Signature that
// authenticates the platform's calls, and the encryption of the phone
// numbers and emails handed to it. Both are pure functions of bytes and a
// key, so that core, the facade, the load tool and the tests share one
// definition.
package sacipher

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"usercenter"
)

// Signature is the TC-Signature of a TC-Timestamp under key: the
// lowercase hex of AES-ECB with PKCS7 padding over the timestamp string,
// keyed with the raw bytes of the SuperAppSecretKey.
func Signature(key, timestamp string) (string, error) {
	return Encrypt(usercenter.CipherAESECBHex, key, timestamp)
}

// Encrypt encrypts a value for the super-app platform with key (16, 24
// or 32 bytes: AES-128, -192 or -256) in cipher c:
//
//   - aes-ecb-hex: PKCS7 padding, ECB, lowercase hex;
//   - aes-cbc-base64: PKCS7 padding, CBC with the key's first 16 bytes as
//     IV, standard base64;
//   - aes-gcm-base64: GCM with a random 12-byte nonce put before the
//     ciphertext and its tag, standard base64.
func Encrypt(c usercenter.SuperAppCipher, key, plaintext string) (string, error) {
	block, err := aes.NewCipher([]byte(key))
	if err != nil {
		return "", err
	}
	switch c {
	case usercenter.CipherAESECBHex:
		buf := pkcs7([]byte(plaintext))
		for i := 0; i < len(buf); i += aes.BlockSize {
			block.Encrypt(buf[i:i+aes.BlockSize], buf[i:i+aes.BlockSize])
		}
		return hex.EncodeToString(buf), nil
	case usercenter.CipherAESCBCBase64:
		buf := pkcs7([]byte(plaintext))
		cipher.NewCBCEncrypter(block, []byte(key)[:aes.BlockSize]).CryptBlocks(buf, buf)
		return base64.StdEncoding.EncodeToString(buf), nil
	case usercenter.CipherAESGCMBase64:
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			return "", err
		}
		nonce := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(plaintext)+gcm.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return "", err
		}
		return base64.StdEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(plaintext), nil)), nil
	}
	return "", fmt.Errorf("unknown cipher %q", usercenter.ClipName(string(c), 32))
}

// pkcs7 pads b to a whole number of AES blocks; a copy is returned.
func pkcs7(b []byte) []byte {
	n := aes.BlockSize - len(b)%aes.BlockSize
	return append(bytes.Clone(b), bytes.Repeat([]byte{byte(n)}, n)...)
}
