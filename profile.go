package usercenter

import (
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/unicode/norm"

	// Time zones are validated against the tz database compiled into the
	// binary, so the answer never depends on the host's files.
	_ "time/tzdata"
)

// Profile is everything known about a user beyond their identity. Phone,
// Email and Address are personal data: they are encrypted at rest,
// masked on ordinary reads, and every disclosure is audited.
type Profile struct {
	Nickname string
	// FullName is the user's name as a whole, formatted for display (SCIM's
	// name.formatted). Like Nickname it is shown by every read: it is not
	// among the encrypted fields, which are the ways to reach a person.
	FullName    string
	Avatar      string
	Phone       string // E.164, e.g. +8613612346688
	Email       string // NormalizeEmail's canonical form (older values: as they were stored)
	Address     string
	City        string
	Province    string
	Nationality string
	Lang        string
	Timezone    string
	Sex         string
	Signature   string
	Remark      string
	LogonMode   LogonMode
	// ThirdParty holds the user's IDs at third-party providers. Each
	// (app, provider, provider user ID) belongs to at most one user.
	ThirdParty map[Provider]string
}

// PIIField names a field that is personal data: FieldPhone, FieldEmail
// or FieldAddress.
type PIIField = Field

// PIIFields lists the personal-data fields.
var PIIFields = []PIIField{FieldPhone, FieldEmail, FieldAddress}

// LogonMode is how a user registered. The enterprise API reports it as an
// integer; the values are usercenter's own and documented in docs/api.md.
type LogonMode int

const (
	LogonUnknown       LogonMode = 0
	LogonPhonePassword LogonMode = 1
	LogonEmailPassword LogonMode = 2
	LogonPhoneSMS      LogonMode = 3
	LogonWeChat        LogonMode = 4
	LogonApple         LogonMode = 5
	LogonGoogle        LogonMode = 6
	LogonFacebook      LogonMode = 7
	LogonTwitter       LogonMode = 8
	LogonQQ            LogonMode = 9
	LogonAlipay        LogonMode = 10
	LogonAPI           LogonMode = 11 // created by an operator or through an API
)

// Valid reports whether m is a known logon mode.
func (m LogonMode) Valid() bool { return m >= LogonUnknown && m <= LogonAPI }

// Provider is a third-party identity provider.
type Provider string

// The providers of the Acceleronix enterprise API's user object. Adding one needs no schema
// change: links live in their own table keyed by provider name.
const (
	ProviderAlipay            Provider = "alipay"
	ProviderApple             Provider = "apple"
	ProviderFacebook          Provider = "facebook"
	ProviderQQ                Provider = "qq"
	ProviderTwitter           Provider = "twitter"
	ProviderWeChatMiniProgram Provider = "wechatMiniprogram"
	ProviderWeChatOffiaccount Provider = "wechatOffiaccount"
	ProviderWeChatUnion       Provider = "wechatUnion"
)

// Providers lists the known providers.
var Providers = []Provider{ProviderAlipay, ProviderApple, ProviderFacebook, ProviderQQ, ProviderTwitter, ProviderWeChatMiniProgram, ProviderWeChatOffiaccount, ProviderWeChatUnion}

// Known reports whether p is a known provider.
func (p Provider) Known() bool {
	for _, k := range Providers {
		if p == k {
			return true
		}
	}
	return false
}

// Limits on profile fields, in characters, but for MaxEmailLen, which is
// in bytes.
const (
	MaxAddressLen   = 256
	MaxShortTextLen = 64 // city, province, nationality, timezone
	MaxSignatureLen = 256
	MaxRemarkLen    = 512
	MaxFullNameLen  = 256
	MaxEmailLen     = 254
)

// DefaultPhoneRegion is where national phone numbers are assumed to be
// when an app sets no region.
const DefaultPhoneRegion = "CN"

// NormalizePhone validates a phone number and returns it in E.164. A
// number without a leading + is read as national in region.
func NormalizePhone(field Field, s, region string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) > 32 {
		return "", Invalid(field, "is too long to be a phone number")
	}
	if region == "" {
		region = DefaultPhoneRegion
	}
	// The library reads letters as a keypad would (1-800-FLOWERS), which
	// would turn a typo into somebody else's number.
	for _, r := range s {
		if !(r >= '0' && r <= '9' || strings.ContainsRune("+-(). ", r)) {
			return "", Invalid(field, "may contain only digits, spaces, +, -, ( ) and .")
		}
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", Invalid(field, "is not a valid phone number: use E.164 (+8613612346688) or a national number of region %s", region)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// MaxEmailLocalLen is the most bytes an email's local part (before the
// @) may have, as RFC 5321 allows.
const MaxEmailLocalLen = 64

// maxEmailInput bounds the input NormalizeEmail reads before it
// normalises it. NFC shortens text by two thirds at most (three Hangul
// jamo become one syllable), so nothing longer could fit MaxEmailLen.
const maxEmailInput = 4 * MaxEmailLen

// NormalizeEmail validates an email address and returns its canonical
// form, the one stored and looked up: NFC, with ASCII letters in lower
// case and every other letter as typed. Mail servers treat the case of
// ASCII letters alike in practice; beyond ASCII, case folding depends on
// the language (a Turkish İ is not an i), so İSTANBUL@x.com and
// istanbul@x.com stay two addresses. Nothing is trimmed: an address with
// whitespace around it is refused, so that a stray space is an error the
// caller sees rather than a change it does not. Empty means no email.
func NormalizeEmail(field Field, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if !utf8.ValidString(s) {
		return "", Invalid(field, "must be valid UTF-8")
	}
	if len(s) > maxEmailInput {
		return "", Invalid(field, "must be an email address of at most %d bytes", MaxEmailLen)
	}
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return "", Invalid(field, "must not start or end with whitespace")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", Invalid(field, "must not contain control characters")
		}
		if invisibleInEmail(r) {
			return "", Invalid(field, "must not contain invisible formatting characters")
		}
		if unicode.IsSpace(r) {
			return "", Invalid(field, "is not a valid email address")
		}
	}
	s = CanonicalEmail(s)
	if len(s) > MaxEmailLen {
		return "", Invalid(field, "must be an email address of at most %d bytes", MaxEmailLen)
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "", Invalid(field, "is not a valid email address")
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") {
		return "", Invalid(field, "is not a valid email address")
	}
	if len(local) > MaxEmailLocalLen {
		return "", Invalid(field, "must have at most %d bytes before the @", MaxEmailLocalLen)
	}
	for label := range strings.SplitSeq(domain, ".") {
		if label == "" {
			return "", Invalid(field, "is not a valid email address")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "", Invalid(field, "must not have a domain label that starts or ends with -")
		}
	}
	return s, nil
}

// invisibleInEmail reports whether r is a formatting character (Unicode
// category Cf) that an address must not hold: invisible, it makes one
// address look like another (a zero-width space, a soft hyphen) or shows
// it in another order than it is (the bidirectional overrides). The
// zero-width joiner and non-joiner stay allowed: some scripts (Persian,
// the Indic ones) need them to spell words, as IDNA2008 allows.
func invisibleInEmail(r rune) bool {
	return unicode.Is(unicode.Cf, r) && r != '\u200c' && r != '\u200d'
}

// CanonicalEmail is the form of an email address that its blind index is
// computed over: NFC, ASCII letters in lower case. It does not validate:
// for an address NormalizeEmail accepts it is what NormalizeEmail
// returns, and a value stored under older rules (lower-cased by Unicode's
// rules, perhaps not in NFC) is indexed under it as it is stored.
func CanonicalEmail(s string) string {
	s = norm.NFC.String(s)
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// CheckTimezone validates an IANA time zone name; empty is allowed.
func CheckTimezone(field Field, s string) error {
	if s == "" {
		return nil
	}
	if err := checkText(field, s, 1, MaxShortTextLen); err != nil {
		return err
	}
	if _, err := time.LoadLocation(s); err != nil || strings.EqualFold(s, "local") {
		return Invalid(field, "must be an IANA time zone such as Asia/Shanghai")
	}
	return nil
}

// CheckLang validates a language tag such as zh-CN or en; empty is allowed.
func CheckLang(field Field, s string) error {
	if s == "" {
		return nil
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' })
	ok := len(s) <= 35 && len(parts) > 0 && len(parts[0]) >= 2 && len(parts[0]) <= 3 && strings.Count(s, "-")+strings.Count(s, "_") == len(parts)-1
	for i, p := range parts {
		for _, r := range p {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
				ok = false
			}
		}
		if len(p) > 8 {
			ok = false
		}
	}
	if !ok {
		return Invalid(field, "must be a language tag such as zh-CN or en")
	}
	return nil
}

// Validate checks every profile field. Phone and Email must already be
// normalised.
func (p *Profile) Validate() error {
	for _, f := range []Field{FieldNickname, FieldFullName, FieldAvatar, FieldAddress, FieldCity, FieldProvince, FieldNationality, FieldLang, FieldTimezone, FieldSex, FieldSignature, FieldRemark, FieldLogonMode} {
		if err := p.ValidateField(f); err != nil {
			return err
		}
	}
	for prov := range p.ThirdParty {
		if err := p.ValidateField(ThirdPartyField(prov)); err != nil {
			return err
		}
	}
	return nil
}

// ValidateField checks one field (ThirdPartyField(p) for a link).
// Updates check only what they change, so that a value stored under older
// rules, or a time zone a newer tz database no longer knows, never blocks
// an unrelated change such as disabling the user.
func (p *Profile) ValidateField(f Field) error {
	switch f {
	case FieldNickname:
		return CheckNickname(f, p.Nickname)
	case FieldAvatar:
		return CheckAvatar(f, p.Avatar)
	case FieldFullName:
		return checkText(f, p.FullName, 0, MaxFullNameLen)
	case FieldAddress:
		return checkText(f, p.Address, 0, MaxAddressLen)
	case FieldCity:
		return checkText(f, p.City, 0, MaxShortTextLen)
	case FieldProvince:
		return checkText(f, p.Province, 0, MaxShortTextLen)
	case FieldNationality:
		return checkText(f, p.Nationality, 0, MaxShortTextLen)
	case FieldLang:
		return CheckLang(f, p.Lang)
	case FieldTimezone:
		return CheckTimezone(f, p.Timezone)
	case FieldSex:
		return checkText(f, p.Sex, 0, 16)
	case FieldSignature:
		return checkText(f, p.Signature, 0, MaxSignatureLen)
	case FieldRemark:
		return checkText(f, p.Remark, 0, MaxRemarkLen)
	case FieldLogonMode:
		if !p.LogonMode.Valid() {
			return Invalid(f, "must be between 0 and %d", LogonAPI)
		}
		return nil
	}
	if base, prov := f.Split(); base == FieldThirdParty && prov != "" {
		if !prov.Known() {
			return Invalid(FieldThirdParty, "names an unknown third-party provider %q", ClipName(string(prov), 32))
		}
		return CheckOriginID(f, p.ThirdParty[prov])
	}
	return nil // phone, email, status and originId are checked where they are parsed
}

// MaskPhone hides the middle of a phone number. Numbers of nine or more
// national digits keep their first three and last four (136****6688,
// the format the super-app platform shows users); shorter ones keep their
// first digit and last two, and very short ones nothing.
func MaskPhone(e164 string) string {
	if e164 == "" {
		return ""
	}
	nsn, ok := nationalNumber(e164)
	if !ok {
		nsn = strings.TrimPrefix(e164, "+")
		if num, err := phonenumbers.Parse(e164, ""); err == nil {
			nsn = phonenumbers.GetNationalSignificantNumber(num)
		}
	}
	digits := []rune(nsn)
	n := len(digits)
	switch {
	case n >= 9:
		return string(digits[:3]) + "****" + string(digits[n-4:])
	case n >= 5:
		return string(digits[:1]) + "****" + string(digits[n-2:])
	}
	return "****"
}

// nationalNumber is what phonenumbers.Parse(e164, "") then
// GetNationalSignificantNumber would return, for the numbers where that
// can be told without parsing: "+", a known country calling code and 2 to
// 17 more digits that do not start with the region's national prefix.
// Parsing such a number only splits it after its calling code, and every
// number NormalizePhone stores is one, but Parse runs a dozen regular
// expressions to find that out: most of the cost of a read that masks a
// phone number. ok is false when only Parse can tell.
func nationalNumber(s string) (nsn string, ok bool) {
	// Parse refuses 2 digits or fewer after the "+", and a calling code
	// never starts with 0.
	if len(s) < 4 || len(s) > 1+3+17 || s[0] != '+' || s[1] == '0' {
		return "", false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	plans := phonePlans()
	for i := 2; i <= 4 && i < len(s); i++ {
		cc := 0
		for _, c := range s[1:i] {
			cc = cc*10 + int(c-'0')
		}
		p, known := plans[cc]
		if !known {
			continue
		}
		// The first calling code that matches is the one Parse takes;
		// calling codes are prefix-free, so there is only one.
		nsn = s[i:]
		if !p.fast || len(nsn) < 2 || len(nsn) > 17 || p.prefix != nil && p.prefix.MatchString(nsn) {
			return "", false
		}
		return nsn, true
	}
	return "", false
}

// phonePlan is what nationalNumber needs of a calling code's numbering
// plan: whether the fast path applies at all (not to non-geographic codes,
// nor to a code whose main region lacks metadata), and the national prefix
// Parse would try to strip, anchored as Parse anchors it.
type phonePlan struct {
	fast   bool
	prefix *regexp.Regexp
}

// phonePlans maps every calling code the library knows to its plan; a
// code it does not know is absent, as Parse would fail on it.
var phonePlans = sync.OnceValue(func() map[int]phonePlan {
	byRegion := map[string]*phonenumbers.PhoneMetadata{}
	if coll, err := phonenumbers.MetadataCollection(); err == nil {
		for _, md := range coll.GetMetadata() {
			byRegion[md.GetId()] = md
		}
	}
	plans := map[int]phonePlan{}
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		region := phonenumbers.GetRegionCodeForCountryCode(cc)
		md := byRegion[region]
		if region == "001" || md == nil || int(md.GetCountryCode()) != cc {
			plans[cc] = phonePlan{}
			continue
		}
		p := phonePlan{fast: true}
		if np := md.GetNationalPrefixForParsing(); np != "" {
			re, err := regexp.Compile("^(?:" + np + ")")
			if err != nil {
				plans[cc] = phonePlan{}
				continue
			}
			p.prefix = re
		}
		plans[cc] = p
	}
	return plans
})

// MaskEmail hides the middle of an email's local part and keeps the
// domain: mu****ng@tencent.com. It never shows more than half of the
// local part: eight or more characters keep two at each end, four to
// seven keep one, and shorter ones none.
func MaskEmail(email string) string {
	if email == "" {
		return ""
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok {
		return "****"
	}
	r := []rune(local)
	keep := 0
	switch {
	case len(r) >= 8:
		keep = 2
	case len(r) >= 4:
		keep = 1
	}
	return string(r[:keep]) + "****" + string(r[len(r)-keep:]) + "@" + domain
}

// MaskAddress hides an address but for its first few characters.
func MaskAddress(addr string) string {
	if addr == "" {
		return ""
	}
	r := []rune(addr)
	keep := min(len(r)/4, 6)
	return string(r[:keep]) + "****"
}
