package usercenter

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// wantInvalid fails unless err is an EInvalid error naming field.
func wantInvalid(t *testing.T, err error, field Field) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want EInvalid on field %q", field)
	}
	e := ErrorOf(err)
	if e.Code != EInvalid || e.Field != field {
		t.Fatalf("got %v (code %q, field %q), want EInvalid on field %q", err, e.Code, e.Field, field)
	}
}

// revealed returns what a mask shows of the value: the mask without its
// "****".
func revealed(mask string) string { return strings.Replace(mask, "****", "", 1) }

// checkHalf fails if a mask shows more than half of the characters of the
// value it hides, or shows anything that is not a prefix plus a suffix of
// the value. For a phone the value is the stored E.164 string, "+" and
// country code included: 136****6688 shows 7 of the 14 characters of
// +8613612346688, exactly half. (Counted against the 11 national digits it
// would show more than half, which the documented 136****6688 format
// does by design.)
func checkHalf(t *testing.T, value, mask string) {
	t.Helper()
	if mask == "" {
		return
	}
	if !strings.Contains(mask, "****") {
		t.Fatalf("mask %q of %q has no ****", mask, value)
	}
	head, tail, _ := strings.Cut(mask, "****")
	if !strings.Contains(value, head) || !strings.HasSuffix(value, tail) {
		t.Errorf("mask %q shows characters that are not from the ends of %q", mask, value)
	}
	shown, total := utf8.RuneCountInString(revealed(mask)), utf8.RuneCountInString(value)
	if 2*shown > total {
		t.Errorf("mask %q shows %d of the %d characters of %q: more than half", mask, shown, total, value)
	}
}

func TestMaskPhone(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"CN mobile", "+8613612346688", "136****6688"},
		{"CN mobile 189", "+8618900001234", "189****1234"},
		{"CN landline 021", "+862162345678", "216****5678"},
		{"US +1", "+12025550123", "202****0123"},
		{"UK mobile", "+447911123456", "791****3456"},
		{"FR 9-digit", "+33612345678", "612****5678"},
		{"HK 8-digit", "+85221234567", "2****67"},
		{"IS 7-digit", "+3545512345", "5****45"},
		{"short 5-digit national", "+24712345", "1****45"},
		{"short 4-digit national", "+2901234", "****"},
		{"3-digit national", "+86123", "****"},
		{"country code only", "+86", "****"},
		{"plus only", "+", "****"},
		{"two digits", "12", "****"},
		{"garbage letters", "abc", "****"},
		{"garbage with digits", "hello world 12345", "hel****2345"},
		{"national without plus", "13612346688", "136****6688"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := MaskPhone(tc.in)
			if got != tc.want {
				t.Errorf("MaskPhone(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if tc.in != "" && got == "" {
				t.Errorf("MaskPhone(%q) is empty", tc.in)
			}
			if !utf8.ValidString(got) {
				t.Errorf("MaskPhone(%q) = %q is not valid UTF-8", tc.in, got)
			}
			// Numbers of nine or more national digits use the platform's own
			// 3+4 format, which shows more than half by design; shorter ones
			// must not.
			if strings.Count(got, "*") == 4 && len([]rune(got)) < 11 {
				t.Run("at most half", func(t *testing.T) { checkHalf(t, tc.in, got) })
			}
		})
	}
}

// A phone that is not E.164 should never make the mask cut a character in
// two: the result goes into JSON and logs.
func TestMaskPhoneNonASCIIGarbage(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"电话号码", "****"},
		{"téléphone 06 12", "tél****6 12"},
		{"١٢٣٤٥٦٧٨٩٠", "١٢٣****٧٨٩٠"},
	} {
		got := MaskPhone(tc.in)
		if got != tc.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("MaskPhone(%q) = %q is not valid UTF-8", tc.in, got)
		}
	}
}

func TestMaskEmail(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"tencent example", "muzhiming@tencent.com", "mu****ng@tencent.com"},
		{"1-char local", "a@b.co", "****@b.co"},
		{"2-char local", "ab@x.com", "****@x.com"},
		{"3-char local", "abc@x.com", "****@x.com"},
		{"4-char local", "abcd@x.com", "a****d@x.com"},
		{"5-char local", "abcde@x.com", "a****e@x.com"},
		{"6-char local", "abcdef@x.com", "a****f@x.com"},
		{"7-char local", "abcdefg@x.com", "a****g@x.com"},
		{"8-char local", "abcdefgh@x.com", "ab****gh@x.com"},
		{"unicode 2-rune local", "名字@例子.中国", "****@例子.中国"},
		{"unicode 3-rune local", "张三丰@例子.中国", "****@例子.中国"},
		{"unicode 6-rune local", "用户名字很长@x.cn", "用****长@x.cn"},
		{"unicode 9-rune local", "一二三四五六七八九@x.cn", "一二****八九@x.cn"},
		{"no @", "muzhiming", "****"},
		{"empty local", "@x.com", "****@x.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := MaskEmail(tc.in)
			if got != tc.want {
				t.Errorf("MaskEmail(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("MaskEmail(%q) = %q is not valid UTF-8", tc.in, got)
			}
			t.Run("at most half of the local part", func(t *testing.T) {
				local, domain, ok := strings.Cut(tc.in, "@")
				maskLocal, maskDomain, mok := strings.Cut(got, "@")
				if ok != mok || domain != maskDomain {
					t.Fatalf("MaskEmail(%q) = %q changed the domain", tc.in, got)
				}
				if !ok {
					// Without an @ the whole value is the secret.
					checkHalf(t, tc.in, got)
					return
				}
				checkHalf(t, local, maskLocal)
			})
		})
	}
}

func TestMaskAddress(t *testing.T) {
	long := strings.Repeat("长", 100)
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"one char", "A", "****"},
		{"three chars", "abc", "****"},
		{"four chars", "abcd", "a****"},
		{"chinese", "北京市海淀区中关村大街1号", "北京市****"},
		{"english", "1 Infinite Loop, Cupertino, CA 95014, USA", "1 Infi****"},
		{"long keeps six", long, "长长长长长长****"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := MaskAddress(tc.in)
			if got != tc.want {
				t.Errorf("MaskAddress(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("MaskAddress(%q) = %q is not valid UTF-8", tc.in, got)
			}
			checkHalf(t, tc.in, got)
		})
	}
}

func TestNormalizePhoneAccepts(t *testing.T) {
	for _, tc := range []struct {
		in, region, want string
	}{
		{"", "CN", ""},
		{"   ", "CN", ""},
		{"+8613612346688", "CN", "+8613612346688"},
		{"+8613612346688", "US", "+8613612346688"},
		{"+8613612346688", "", "+8613612346688"},
		{" +86 136 1234 6688 ", "CN", "+8613612346688"},
		{"+86-136-1234-6688", "CN", "+8613612346688"},
		{"+12025550123", "CN", "+12025550123"},
		{"+1 (202) 555-0123", "CN", "+12025550123"},
		{"+447911123456", "CN", "+447911123456"},
		// National numbers are read in the app's region, CN by default.
		{"13612346688", "CN", "+8613612346688"},
		{"136 1234 6688", "CN", "+8613612346688"},
		{"136-1234-6688", "CN", "+8613612346688"},
		{"13612346688", "", "+8613612346688"},
		{"021-62345678", "CN", "+862162345678"},
		{"(010) 6552 9988", "CN", "+861065529988"},
		{"2025550123", "US", "+12025550123"},
	} {
		got, err := NormalizePhone("phone", tc.in, tc.region)
		if err != nil || got != tc.want {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", tc.in, tc.region, got, err, tc.want)
		}
	}
}

func TestNormalizePhoneRejects(t *testing.T) {
	for _, tc := range []struct {
		name, in, region string
	}{
		{"five digits", "12345", "CN"},
		{"nine-digit CN mobile", "136123466", "CN"},
		{"twelve-digit CN mobile", "136123466880", "CN"},
		{"too many digits in E.164", "+861361234668899", "CN"},
		{"short E.164", "+8610123", "CN"},
		{"country code only", "+86", "CN"},
		{"CN landline in US", "021-62345678", "US"},
		{"letters", "abc", "CN"},
		{"word", "phone", "CN"},
		{"letters inside a CN mobile", "136ABCD6688", "CN"},
		{"letters of a vanity number", "+1 800 FLOWERS", "US"},
		{"NUL byte", "+8613612346688\x00", "CN"},
		{"33 digits", strings.Repeat("1", 33), "CN"},
		{"too long with spaces", "+86 136 1234 6688 0000 0000 0000 0", "CN"},
		{"non-UTF-8", "+86136\xff12346688", "CN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizePhone(FieldPhone, tc.in, tc.region)
			if got != "" {
				t.Errorf("NormalizePhone(%q, %q) = %q, want nothing", tc.in, tc.region, got)
			}
			wantInvalid(t, err, FieldPhone)
			// The message is a rule for each facade to name the field in
			// its own words: it never names the field itself.
			if e := ErrorOf(err); strings.HasPrefix(e.Message, "phone") {
				t.Errorf("message %q names the field", e.Message)
			}
		})
	}
}

func TestNormalizeEmailAccepts(t *testing.T) {
	max := strings.Repeat("a", 64) + "@" + strings.Repeat("b", MaxEmailLen-64-1-4) + ".com"
	if len(max) != MaxEmailLen {
		t.Fatalf("test address is %d bytes", len(max))
	}
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty clears", "", ""},
		{"plain", "a@b.co", "a@b.co"},
		{"ASCII case folded", "Muzhiming@Tencent.COM", "muzhiming@tencent.com"},
		{"ASCII case folded in a tag", "MIXED.Case+Tag@Example.ORG", "mixed.case+tag@example.org"},
		{"subdomains", "first.last@sub.example.com", "first.last@sub.example.com"},
		{"hyphen inside a label", "a@my-host.ex-ample.com", "a@my-host.ex-ample.com"},
		{"not ASCII, no case", "用户@例子.中国", "用户@例子.中国"},
		// Only ASCII letters fold: the rest keep their case.
		{"non-ASCII upper case kept", "ÄÖÜ@Beispiel.DE", "ÄÖÜ@beispiel.de"},
		{"dotted capital I kept", "İSTANBUL@x.com", "İstanbul@x.com"},
		{"dotless i kept", "ıstanbul@x.com", "ıstanbul@x.com"},
		{"plain i", "ISTANBUL@X.com", "istanbul@x.com"},
		// NFC: a decomposed é is stored composed.
		{"NFC composes", "caf\u0065\u0301@x.com", "caf\u00e9@x.com"},
		{"NFC composed stays", "caf\u00e9@x.com", "caf\u00e9@x.com"},
		{"NFC composes the domain", "a@caf\u0065\u0301.fr", "a@caf\u00e9.fr"},
		{"254 bytes, 64 before the @", strings.ToUpper(max), max},
		{"64 bytes of 2-byte letters", strings.Repeat("é", 32) + "@x.com", strings.Repeat("é", 32) + "@x.com"},
		// Octets are counted after NFC: 22 decomposed é are 66 bytes typed, 44 stored.
		{"64 bytes once composed", strings.Repeat("e\u0301", 22) + "@x.com", strings.Repeat("é", 22) + "@x.com"},
		// Persian needs the zero-width non-joiner to spell some words.
		{"zero-width non-joiner", "می\u200cخواهم@x.ir", "می\u200cخواهم@x.ir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeEmail("email", tc.in)
			if err != nil || got != tc.want {
				t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			if got != CanonicalEmail(tc.in) {
				t.Errorf("CanonicalEmail(%q) = %q, NormalizeEmail gave %q", tc.in, CanonicalEmail(tc.in), got)
			}
			// Normalising is idempotent: what is stored normalises to itself.
			if again, err := NormalizeEmail("email", got); err != nil || again != got {
				t.Errorf("NormalizeEmail(%q) = %q, %v; want it unchanged", got, again, err)
			}
		})
	}
	// Two addresses that differ only beyond ASCII case stay two.
	a, _ := NormalizeEmail("email", "İSTANBUL@x.com")
	b, _ := NormalizeEmail("email", "istanbul@x.com")
	if a == b {
		t.Errorf("İSTANBUL@x.com and istanbul@x.com both normalise to %q", a)
	}
}

func TestNormalizeEmailRejects(t *testing.T) {
	over := strings.Repeat("a", 64) + "@" + strings.Repeat("b", MaxEmailLen-64-4) + ".com"
	if len(over) != MaxEmailLen+1 {
		t.Fatalf("test address is %d bytes", len(over))
	}
	const (
		notValid  = "is not a valid email address"
		spaced    = "must not start or end with whitespace"
		control   = "must not contain control characters"
		invisible = "must not contain invisible formatting characters"
		tooLong   = "must be an email address of at most 254 bytes"
		localLong = "must have at most 64 bytes before the @"
		hyphen    = "must not have a domain label that starts or ends with -"
		notUTF8   = "must be valid UTF-8"
	)
	for _, tc := range []struct {
		name, in, rule string
	}{
		{"display name", "A <a@b.c>", notValid},
		{"quoted display name", `"Mu Zhiming" <muzhiming@tencent.com>`, notValid},
		{"angle brackets only", "<a@b.c>", notValid},
		{"no dot in domain", "a@b", notValid},
		{"localhost", "a@localhost", notValid},
		{"trailing dot", "a@b.c.", notValid},
		{"leading dot in domain", "a@.b.c", notValid},
		{"double dot in domain", "a@b..c", notValid},
		{"double dot in local", "a..b@c.d", notValid},
		{"space in local", "a b@c.d", notValid},
		{"space in domain", "a@b c.d", notValid},
		{"no-break space inside", "a\u00a0b@c.d", notValid},
		{"quoted local", `"ab"@c.d`, notValid},
		{"comment", "a@b.c (comment)", notValid},
		{"two addresses", "a@b.c,d@e.f", notValid},
		{"no @", "muzhiming", notValid},
		{"no local", "@b.c", notValid},
		{"no domain", "a@", notValid},
		{"only spaces", "  ", spaced},
		{"leading space", " a@b.c", spaced},
		{"trailing space", "a@b.c ", spaced},
		{"leading tab", "\ta@b.c", spaced},
		{"trailing newline", "a@b.c\n", spaced},
		{"trailing no-break space", "a@b.c\u00a0", spaced},
		{"leading ideographic space", "\u3000a@b.c", spaced},
		{"NUL", "a\x00b@c.d", control},
		{"DEL", "a\x7fb@c.d", control},
		{"escape in domain", "a@b\x1b.c", control},
		{"C1 control", "a\u0085b@c.d", control},
		{"right-to-left override", "ab\u202ecom.exe@c.d", invisible},
		{"left-to-right mark", "a\u200eb@c.d", invisible},
		{"bidi isolate in domain", "a@b\u2067c.d", invisible},
		{"zero-width space", "a\u200bb@c.d", invisible},
		{"zero-width space in domain", "a@b\u200b.c", invisible},
		{"word joiner", "a\u2060b@c.d", invisible},
		{"byte order mark", "\ufeffa@b.c", invisible},
		{"soft hyphen", "a\u00adb@c.d", invisible},
		{"255 bytes", over, tooLong},
		{"far too long", strings.Repeat("a", 5000) + "@b.c", tooLong},
		{"65 bytes before the @", strings.Repeat("a", 65) + "@b.c", localLong},
		{"66 bytes of 2-byte letters before the @", strings.Repeat("é", 33) + "@b.c", localLong},
		{"label starts with -", "a@-b.com", hyphen},
		{"label ends with -", "a@b-.com", hyphen},
		{"inner label starts with -", "a@x.-b.com", hyphen},
		{"last label ends with -", "a@b.com-", hyphen},
		{"non-UTF-8 local", "\xff@b.c", notUTF8},
		{"non-UTF-8 domain", "a@b\xfe.c", notUTF8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeEmail("email", tc.in)
			if got != "" {
				t.Errorf("NormalizeEmail(%q) = %q, want nothing", tc.in, got)
			}
			wantInvalid(t, err, "email")
			if msg := ErrorOf(err).Message; msg != tc.rule {
				t.Errorf("NormalizeEmail(%q) says %q, want %q", tc.in, msg, tc.rule)
			}
		})
	}
}

func TestCheckLang(t *testing.T) {
	for _, s := range []string{"", "en", "zh", "fil", "zh-CN", "zh_CN", "EN-us", "zh-Hans", "zh-Hans-CN", "es-419", "en-aaaaaaaa-bbbbbbbb-cccccccc-ddddd"} {
		if err := CheckLang("lang", s); err != nil {
			t.Errorf("CheckLang(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range []string{
		"e", "english", "zh-", "-zh", "zh--CN", "zh-CN-", "1en", "zh CN", "zh-CN!", "中文", "en-US\n",
		"en-abcdefghi",                         // a subtag over 8 characters
		"en-aaaaaaaa-bbbbbbbb-cccccccc-dddddd", // 36 characters
	} {
		wantInvalid(t, CheckLang("lang", s), "lang")
	}
}

func TestCheckTimezone(t *testing.T) {
	for _, s := range []string{"", "UTC", "Asia/Shanghai", "America/New_York", "Europe/London", "Etc/GMT+8", "America/Argentina/Buenos_Aires"} {
		if err := CheckTimezone("timezone", s); err != nil {
			t.Errorf("CheckTimezone(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range []string{
		"Local", "local", "Mars/Olympus", "+08:00", "Asia/Shanghai ", "Asia/Shanghai\n",
		"../../etc/passwd", "/etc/localtime", "Asia/" + strings.Repeat("x", 60), "\xff",
	} {
		wantInvalid(t, CheckTimezone("timezone", s), "timezone")
	}
}

func validProfile() Profile {
	return Profile{
		Nickname:    "慕之鸣",
		Avatar:      "https://example.com/a.png",
		Phone:       "+8613612346688",
		Email:       "muzhiming@tencent.com",
		Address:     "北京市海淀区中关村大街1号",
		City:        "Beijing",
		Province:    "Beijing",
		Nationality: "CN",
		Lang:        "zh-CN",
		Timezone:    "Asia/Shanghai",
		Sex:         "male",
		Signature:   "hello",
		Remark:      "vip",
		LogonMode:   LogonPhoneSMS,
		ThirdParty:  map[Provider]string{ProviderWeChatUnion: "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", ProviderQQ: "12345"},
	}
}

func TestProfileValidateAccepts(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Profile)
	}{
		{"full", func(*Profile) {}},
		{"empty", func(p *Profile) { *p = Profile{} }},
		// Limits count characters, not bytes: three bytes each here.
		{"nickname at limit", func(p *Profile) { p.Nickname = strings.Repeat("名", MaxNicknameLen) }},
		{"address at limit", func(p *Profile) { p.Address = strings.Repeat("路", MaxAddressLen) }},
		{"city at limit", func(p *Profile) { p.City = strings.Repeat("城", MaxShortTextLen) }},
		{"signature at limit", func(p *Profile) { p.Signature = strings.Repeat("签", MaxSignatureLen) }},
		{"remark at limit", func(p *Profile) { p.Remark = strings.Repeat("备", MaxRemarkLen) }},
		{"sex at limit", func(p *Profile) { p.Sex = strings.Repeat("x", 16) }},
		{"last logon mode", func(p *Profile) { p.LogonMode = LogonAPI }},
		{"unknown logon mode 0", func(p *Profile) { p.LogonMode = LogonUnknown }},
		{"every provider", func(p *Profile) {
			p.ThirdParty = map[Provider]string{}
			for _, prov := range Providers {
				p.ThirdParty[prov] = "id-" + string(prov)
			}
		}},
		{"provider id at limit", func(p *Profile) {
			p.ThirdParty = map[Provider]string{ProviderApple: strings.Repeat("x", MaxOriginIDLen)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := validProfile()
			tc.mod(&p)
			if err := p.Validate(); err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
		})
	}
}

func TestProfileValidateRejects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mod   func(*Profile)
		field Field
	}{
		{"nickname too long", func(p *Profile) { p.Nickname = strings.Repeat("名", MaxNicknameLen+1) }, "nickname"},
		{"nickname NUL", func(p *Profile) { p.Nickname = "a\x00b" }, "nickname"},
		{"avatar not http", func(p *Profile) { p.Avatar = "javascript:alert(1)" }, "avatar"},
		{"avatar relative", func(p *Profile) { p.Avatar = "/a.png" }, "avatar"},
		{"address too long", func(p *Profile) { p.Address = strings.Repeat("路", MaxAddressLen+1) }, "address"},
		{"address newline", func(p *Profile) { p.Address = "line 1\r\nline 2" }, "address"},
		{"city too long", func(p *Profile) { p.City = strings.Repeat("c", MaxShortTextLen+1) }, "city"},
		{"city newline", func(p *Profile) { p.City = "Beijing\n" }, "city"},
		{"province too long", func(p *Profile) { p.Province = strings.Repeat("p", MaxShortTextLen+1) }, "province"},
		{"nationality too long", func(p *Profile) { p.Nationality = strings.Repeat("n", MaxShortTextLen+1) }, "nationality"},
		{"nationality tab", func(p *Profile) { p.Nationality = "C\tN" }, "nationality"},
		{"lang", func(p *Profile) { p.Lang = "english" }, "lang"},
		{"timezone", func(p *Profile) { p.Timezone = "Mars/Olympus" }, "timezone"},
		{"sex too long", func(p *Profile) { p.Sex = strings.Repeat("x", 17) }, "sex"},
		{"signature too long", func(p *Profile) { p.Signature = strings.Repeat("签", MaxSignatureLen+1) }, "signature"},
		{"signature C1 control", func(p *Profile) { p.Signature = "hi\u0085" }, "signature"},
		{"remark too long", func(p *Profile) { p.Remark = strings.Repeat("r", MaxRemarkLen+1) }, "remark"},
		{"remark escape", func(p *Profile) { p.Remark = "\x1b[31mred" }, "remark"},
		{"remark not UTF-8", func(p *Profile) { p.Remark = "\xff" }, "remark"},
		{"logon mode negative", func(p *Profile) { p.LogonMode = -1 }, "logonMode"},
		{"logon mode too big", func(p *Profile) { p.LogonMode = LogonAPI + 1 }, "logonMode"},
		{"unknown provider", func(p *Profile) { p.ThirdParty = map[Provider]string{"myspace": "x"} }, "thirdPartyIds"},
		{"provider wrong case", func(p *Profile) { p.ThirdParty = map[Provider]string{"WeChatUnion": "x"} }, "thirdPartyIds"},
		{"provider id with space", func(p *Profile) { p.ThirdParty = map[Provider]string{ProviderQQ: "a b"} }, "thirdPartyIds.qq"},
		{"provider id too long", func(p *Profile) {
			p.ThirdParty = map[Provider]string{ProviderApple: strings.Repeat("x", MaxOriginIDLen+1)}
		}, "thirdPartyIds.apple"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := validProfile()
			tc.mod(&p)
			wantInvalid(t, p.Validate(), tc.field)
		})
	}
}

// An unknown provider's name is echoed in the message, but clipped.
func TestProfileValidateClipsProviderName(t *testing.T) {
	p := validProfile()
	p.ThirdParty = map[Provider]string{Provider(strings.Repeat("z", 1000)): "x"}
	err := p.Validate()
	wantInvalid(t, err, "thirdPartyIds")
	if msg := ErrorOf(err).Message; len(msg) > 200 {
		t.Errorf("message is %d bytes: %q", len(msg), msg)
	}
}
