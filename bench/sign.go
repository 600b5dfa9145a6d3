package bench

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"sync"
	"time"
)

// tc3Signer signs LCIC requests with TC3-HMAC-SHA256 exactly as the
// official Go SDK does (POST, JSON body, canonical URI "/", signed headers
// content-type and host, the host signed with its port, service "lcic"),
// so the server sees what SDK clients send. The SDK itself is not used on
// the hot path: it marshals through reflection and builds every string
// with fmt, several times the cost of the request it signs. A test checks
// this signer against the SDK byte for byte.
//
// The signing key depends only on the secret and the UTC date, so it is
// derived once a day, not once a request.
type tc3Signer struct {
	secretID  string
	secretKey string
	// canonPrefix is the canonical request up to the payload hash; for a
	// JSON POST to one host it never changes.
	canonPrefix []byte

	mu  sync.Mutex
	day *tc3Day
}

// tc3Day is the signing key of one UTC date.
type tc3Day struct {
	date       string // 2006-01-02
	start, end int64  // Unix seconds: [start, end)
	key        []byte
	scope      string // date/lcic/tc3_request
}

const (
	tc3Service = "lcic"
	lcicVer    = "2022-08-17"
)

func newTC3Signer(secretID, secretKey, host string) *tc3Signer {
	return &tc3Signer{
		secretID:    secretID,
		secretKey:   secretKey,
		canonPrefix: []byte("POST\n/\n\ncontent-type:application/json\nhost:" + host + "\n\ncontent-type;host\n"),
	}
}

// dayOf returns the signing key for the date of Unix time ts.
func (s *tc3Signer) dayOf(ts int64) *tc3Day {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.day; d != nil && ts >= d.start && ts < d.end {
		return d
	}
	t := time.Unix(ts, 0).UTC()
	date := t.Format("2006-01-02")
	start := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Unix()
	kDate := hmacSHA256([]byte("TC3"+s.secretKey), date)
	kService := hmacSHA256(kDate, tc3Service)
	d := &tc3Day{date: date, start: start, end: start + 86400, key: hmacSHA256(kService, "tc3_request"), scope: date + "/" + tc3Service + "/tc3_request"}
	s.day = d
	return d
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// tc3State is one worker's reusable signing buffers.
type tc3State struct {
	day    *tc3Day
	mac    hash.Hash // keyed with day.key
	buf    []byte
	sum    []byte
	lastTS int64
	tsText string
}

// sign returns the X-TC-Timestamp and Authorization headers for a POST of
// body at time now.
func (s *tc3Signer) sign(st *tc3State, body []byte, now time.Time) (timestamp, authorization string) {
	ts := now.Unix()
	if ts != st.lastTS || st.tsText == "" {
		st.lastTS, st.tsText = ts, strconv.FormatInt(ts, 10)
	}
	if st.day == nil || ts < st.day.start || ts >= st.day.end {
		st.day = s.dayOf(ts)
		st.mac = hmac.New(sha256.New, st.day.key)
	}
	// Canonical request, then its hash.
	payload := sha256.Sum256(body)
	b := append(st.buf[:0], s.canonPrefix...)
	b = hex.AppendEncode(b, payload[:])
	canon := sha256.Sum256(b)
	// String to sign.
	b = append(b[:0], "TC3-HMAC-SHA256\n"...)
	b = append(b, st.tsText...)
	b = append(b, '\n')
	b = append(b, st.day.scope...)
	b = append(b, '\n')
	b = hex.AppendEncode(b, canon[:])
	st.mac.Reset()
	st.mac.Write(b)
	st.sum = st.mac.Sum(st.sum[:0])
	// Authorization.
	b = append(b[:0], "TC3-HMAC-SHA256 Credential="...)
	b = append(b, s.secretID...)
	b = append(b, '/')
	b = append(b, st.day.scope...)
	b = append(b, ", SignedHeaders=content-type;host, Signature="...)
	b = hex.AppendEncode(b, st.sum)
	st.buf = b
	return st.tsText, string(b)
}

// superAppSigner makes the super-app API's TC-Timestamp and TC-Signature:
// the lowercase hex of AES-ECB with PKCS7 padding over the millisecond
// timestamp, keyed with the raw bytes of the SuperAppSecretKey. The
// signature covers only the timestamp, so one pair serves every request
// for a while; a worker makes a new one each second.
type superAppSigner struct {
	block  cipher.Block
	gcm    cipher.AEAD
	key    string
	cipher string
}

func newSuperAppSigner(key, cipherName string) (*superAppSigner, error) {
	block, err := aes.NewCipher([]byte(key))
	if err != nil {
		return nil, fmt.Errorf("the SuperAppSecretKey must be 16, 24 or 32 characters: %w", err)
	}
	switch cipherName {
	case "", "aes-ecb-hex", "aes-cbc-base64", "aes-gcm-base64":
	default:
		return nil, fmt.Errorf("unknown SuperAppCipher %q", cipherName)
	}
	if cipherName == "" {
		cipherName = "aes-ecb-hex"
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &superAppSigner{block: block, gcm: gcm, key: key, cipher: cipherName}, nil
}

// superAppState is one worker's current signature.
type superAppState struct {
	until     time.Time
	timestamp string
	signature string
}

// headers returns a TC-Timestamp and TC-Signature valid at now.
func (s *superAppSigner) headers(st *superAppState, now time.Time) (string, string) {
	if now.Before(st.until) {
		return st.timestamp, st.signature
	}
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	st.timestamp, st.signature, st.until = ts, hex.EncodeToString(s.ecb([]byte(ts))), now.Add(time.Second)
	return st.timestamp, st.signature
}

func (s *superAppSigner) ecb(plain []byte) []byte {
	n := aes.BlockSize - len(plain)%aes.BlockSize
	out := make([]byte, len(plain)+n)
	copy(out, plain)
	for i := len(plain); i < len(out); i++ {
		out[i] = byte(n)
	}
	for i := 0; i < len(out); i += aes.BlockSize {
		s.block.Encrypt(out[i:i+aes.BlockSize], out[i:i+aes.BlockSize])
	}
	return out
}

// decrypt opens a value delivered by getUserPhoneNumber or getUserEmail,
// as docs/superapp.md tells a mini program's backend to, appending the
// plaintext to dst.
func (s *superAppSigner) decrypt(dst, value []byte) ([]byte, error) {
	var buf []byte
	var err error
	switch s.cipher {
	case "aes-ecb-hex":
		buf = make([]byte, hex.DecodedLen(len(value)))
		if _, err = hex.Decode(buf, value); err != nil {
			return nil, err
		}
		if len(buf) == 0 || len(buf)%aes.BlockSize != 0 {
			return nil, errors.New("not whole AES blocks")
		}
		for i := 0; i < len(buf); i += aes.BlockSize {
			s.block.Decrypt(buf[i:i+aes.BlockSize], buf[i:i+aes.BlockSize])
		}
		return unpad(dst, buf)
	case "aes-cbc-base64":
		buf = make([]byte, base64.StdEncoding.DecodedLen(len(value)))
		n, err := base64.StdEncoding.Decode(buf, value)
		if err != nil {
			return nil, err
		}
		buf = buf[:n]
		if len(buf) == 0 || len(buf)%aes.BlockSize != 0 {
			return nil, errors.New("not whole AES blocks")
		}
		cipher.NewCBCDecrypter(s.block, []byte(s.key)[:aes.BlockSize]).CryptBlocks(buf, buf)
		return unpad(dst, buf)
	default: // aes-gcm-base64
		buf = make([]byte, base64.StdEncoding.DecodedLen(len(value)))
		n, err := base64.StdEncoding.Decode(buf, value)
		if err != nil {
			return nil, err
		}
		buf = buf[:n]
		gcm := s.gcm
		if len(buf) < gcm.NonceSize()+gcm.Overhead() {
			return nil, errors.New("too short")
		}
		return gcm.Open(dst, buf[:gcm.NonceSize()], buf[gcm.NonceSize():], nil)
	}
}

func unpad(dst, b []byte) ([]byte, error) {
	n := int(b[len(b)-1])
	if n < 1 || n > aes.BlockSize || n > len(b) {
		return nil, errors.New("bad padding")
	}
	return append(dst, b[:len(b)-n]...), nil
}

// accessKeyLogin returns the username and password of an enterprise
// AccessKey login at time now: password = sha256hex(username + secret).
func accessKeyLogin(secretID, secretKey string, now time.Time) (username, password string) {
	username = "ver=1&auth_mode=accessKey&sign_method=sha256&access_key=" + secretID + "&timestamp=" + strconv.FormatInt(now.UnixMilli(), 10)
	sum := sha256.Sum256([]byte(username + secretKey))
	return username, hex.EncodeToString(sum[:])
}
