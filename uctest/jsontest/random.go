package jsontest

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
)

// tricky are strings that a hand-written JSON scanner could get wrong.
var tricky = []string{"", "a", `"`, `\`, `\"`, "}", "]", ",", ":", "{\"a\":1}", "é", "😀", "\u2028", "\x00", "\n", "UserId"}

// RandomDocument returns a valid JSON document built from keys and
// tricky values, with random whitespace, objects that may repeat a key,
// and nesting up to depth. The top value is an object nine times in ten.
func RandomDocument(rng *rand.Rand, keys []string, depth int) []byte {
	var b strings.Builder
	ws := func() {
		for range rng.IntN(3) {
			b.WriteByte(" \t\n\r"[rng.IntN(4)])
		}
	}
	str := func(s string) {
		q, _ := json.Marshal(s)
		if rng.IntN(4) == 0 { // escape one more character, as some encoders do
			q = []byte(strings.Replace(string(q), "a", `\u0061`, 1))
		}
		b.Write(q)
	}
	var value func(d int, object bool)
	value = func(d int, object bool) {
		ws()
		kind := rng.IntN(8)
		if object {
			kind = 6
		}
		if d <= 0 && kind >= 5 {
			kind = rng.IntN(5)
		}
		switch kind {
		case 0:
			str(tricky[rng.IntN(len(tricky))])
		case 1:
			b.WriteString([]string{"0", "-1", "12.5", "1e3", "-0.25E-2", "18446744073709551616"}[rng.IntN(6)])
		case 2:
			b.WriteString([]string{"true", "false"}[rng.IntN(2)])
		case 3:
			b.WriteString("null")
		case 4:
			str(keys[rng.IntN(len(keys))])
		case 5:
			b.WriteByte('[')
			for i := range rng.IntN(4) {
				if i > 0 {
					b.WriteByte(',')
				}
				value(d-1, false)
			}
			ws()
			b.WriteByte(']')
		default:
			b.WriteByte('{')
			for i := range rng.IntN(5) {
				if i > 0 {
					b.WriteByte(',')
				}
				ws()
				str(keys[rng.IntN(len(keys))])
				ws()
				b.WriteByte(':')
				value(d-1, false)
			}
			ws()
			b.WriteByte('}')
		}
		ws()
	}
	value(depth, rng.IntN(10) != 0)
	return []byte(b.String())
}
