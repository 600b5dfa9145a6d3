package usercenter

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// maskPhoneByParse is MaskPhone as it was before its fast path: always
// through phonenumbers.Parse.
func maskPhoneByParse(e164 string) string {
	if e164 == "" {
		return ""
	}
	digits := []rune(strings.TrimPrefix(e164, "+"))
	if num, err := phonenumbers.Parse(e164, ""); err == nil {
		digits = []rune(phonenumbers.GetNationalSignificantNumber(num))
	}
	n := len(digits)
	switch {
	case n >= 9:
		return string(digits[:3]) + "****" + string(digits[n-4:])
	case n >= 5:
		return string(digits[:1]) + "****" + string(digits[n-2:])
	}
	return "****"
}

// TestNationalNumberMatchesParse checks the fast path of MaskPhone
// against phonenumbers.Parse on numbers of every calling code and every
// length, random digits and digits that start like a national prefix.
func TestNationalNumberMatchesParse(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	randDigits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	fast, checked := 0, 0
	check := func(s string) {
		t.Helper()
		checked++
		if got, want := MaskPhone(s), maskPhoneByParse(s); got != want {
			t.Errorf("MaskPhone(%q) = %q, Parse says %q", s, got, want)
		}
		nsn, ok := nationalNumber(s)
		if !ok {
			return
		}
		fast++
		num, err := phonenumbers.Parse(s, "")
		if err != nil {
			t.Errorf("nationalNumber(%q) = %q, but Parse fails: %v", s, nsn, err)
			return
		}
		if want := phonenumbers.GetNationalSignificantNumber(num); nsn != want {
			t.Errorf("nationalNumber(%q) = %q, Parse says %q", s, nsn, want)
		}
	}
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		p := "+" + strconv.Itoa(cc)
		for n := 0; n <= 18; n++ {
			for range 12 {
				check(p + randDigits(n))
			}
			for lead := range 10 {
				if n > 0 {
					check(p + strconv.Itoa(lead) + randDigits(n-1))
				}
			}
			if n > 0 {
				check(p + strings.Repeat("0", n))
			}
		}
	}
	for _, s := range []string{"+", "+0", "+00", "+1", "+12", "+123", "+0123456789", "+8613612346688", "+86 136", "+86-136-1234-6688", "8613612346688", "+861361234668８"} {
		check(s)
	}
	// Numbers as NormalizePhone stores them all take the fast path.
	for _, region := range []string{"CN", "US", "GB", "DE", "FR", "IT", "JP", "IN", "BR", "RU", "AU", "SG", "HK"} {
		for _, typ := range []phonenumbers.PhoneNumberType{phonenumbers.MOBILE, phonenumbers.FIXED_LINE} {
			ex := phonenumbers.GetExampleNumberForType(region, typ)
			if ex == nil {
				continue
			}
			s := phonenumbers.Format(ex, phonenumbers.E164)
			if _, ok := nationalNumber(s); !ok {
				t.Errorf("nationalNumber(%q), an example %s number, takes the slow path", s, region)
			}
			check(s)
		}
	}
	if fast < checked/2 {
		t.Errorf("only %d of %d numbers took the fast path", fast, checked)
	}
	t.Logf("%d numbers checked, %d by the fast path", checked, fast)
}

func BenchmarkMaskPhone(b *testing.B) {
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			MaskPhone("+8613912345678")
		}
	})
	b.Run("parse", func(b *testing.B) {
		for b.Loop() {
			maskPhoneByParse("+8613912345678")
		}
	})
}
