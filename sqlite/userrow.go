package sqlite

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"usercenter"
	"usercenter/core"
	"usercenter/sqlstore"
)

// A user is read as six columns rather than twenty-three: its text and
// integer columns packed by SQLite into one JSON array, and its five blobs
// (JSON has no bytes) as they are. Every column a query returns costs the
// driver a handful of calls into SQLite, each under the connection's
// mutex, and database/sql a conversion by reflection: about 0.27 µs a
// column, while json_array and the decoder below cost about 1.5 µs for all
// eighteen (BenchmarkPointRead: 9.5 µs a user read before, 6 µs after). The
// strings of a row share the one string the array arrived in.

// userValues are the values userReadColumns packs, in order.
var userValues = []string{"user_id", "sdk_app_id", "origin_id", "status", "created_at", "updated_at", "last_login_at",
	"nickname", "avatar", "city", "province", "nationality", "lang", "timezone", "sex", "signature", "remark", "logon_mode",
	"external_id", "full_name"}

// userReadColumns is what a read of users selects, from users aliased u,
// in the order scanUser reads it.
var userReadColumns = `json_array(u.` + strings.Join(userValues, ", u.") + `),
	u.phone_enc, u.phone_idx, u.email_enc, u.email_idx, u.address_enc`

// jsonValue is one value of a JSON array as SQLite writes one: a string,
// unescaped, or the literal text of a number or null.
type jsonValue struct {
	text string
	kind byte // 's' string, 'n' number, '0' null
}

// splitJSONArray splits src, a JSON array of strings, numbers and nulls,
// into out, which must be exactly as long as the array.
func splitJSONArray(src string, out []jsonValue) error {
	bad := func(what string) error { return fmt.Errorf("sqlite: a packed user row %s", what) }
	if len(src) < 2 || src[0] != '[' || src[len(src)-1] != ']' {
		return bad("is not a JSON array")
	}
	s := src[1 : len(src)-1]
	for n := 0; ; n++ {
		if n == len(out) {
			return bad(fmt.Sprintf("has more than %d values", len(out)))
		}
		var end int
		switch {
		case s == "":
			return bad(fmt.Sprintf("has %d values, not %d", n, len(out)))
		case s[0] == '"':
			escaped := false
			end = 1
			for ; end < len(s) && s[end] != '"'; end++ {
				if s[end] == '\\' {
					escaped = true
					end++
				}
			}
			if end >= len(s) {
				return bad("has an unterminated string")
			}
			end++
			if escaped {
				var v string
				if err := json.Unmarshal([]byte(s[:end]), &v); err != nil {
					return bad("has a malformed string")
				}
				out[n] = jsonValue{v, 's'}
			} else {
				out[n] = jsonValue{s[1 : end-1], 's'}
			}
		default:
			end = strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			switch lit := s[:end]; {
			case lit == "null":
				out[n] = jsonValue{lit, '0'}
			case lit != "" && (lit[0] == '-' || lit[0] >= '0' && lit[0] <= '9'):
				out[n] = jsonValue{lit, 'n'}
			default:
				return bad("has a value that is no string, number or null")
			}
		}
		s = s[end:]
		if s == "" {
			if n+1 != len(out) {
				return bad(fmt.Sprintf("has %d values, not %d", n+1, len(out)))
			}
			return nil
		}
		if s[0] != ',' {
			return bad("has values not separated by commas")
		}
		s = s[1:]
	}
}

// decodeUserRow fills u from the array userReadColumns packs, as scanning
// the columns one by one into u's fields would: a number read as text
// gives its digits, text read as a number is parsed, and NULL is refused
// but for last_login_at.
func decodeUserRow(packed string, u *core.UserRecord) error {
	var v [20]jsonValue
	if len(userValues) != len(v) {
		panic("sqlite: userValues and decodeUserRow disagree")
	}
	if err := splitJSONArray(packed, v[:]); err != nil {
		return err
	}
	var err error
	str := func(i int) string {
		if v[i].kind == '0' && err == nil {
			err = fmt.Errorf("sqlite: users.%s is NULL", userValues[i])
		}
		return v[i].text
	}
	num := func(i int) int64 {
		if v[i].kind == '0' {
			if err == nil {
				err = fmt.Errorf("sqlite: users.%s is NULL", userValues[i])
			}
			return 0
		}
		n, perr := strconv.ParseInt(v[i].text, 10, 64)
		if perr != nil && err == nil {
			err = fmt.Errorf("sqlite: users.%s: %w", userValues[i], perr)
		}
		return n
	}
	u.ID = str(0)
	u.SdkAppID = uint64(num(1))
	u.OriginID = str(2)
	u.Status = usercenter.UserStatus(num(3))
	u.CreatedAt = sqlstore.DecodeTime(num(4))
	u.UpdatedAt = sqlstore.DecodeTime(num(5))
	if v[6].kind != '0' {
		u.LastLoginAt = sqlstore.DecodeTime(num(6))
	}
	u.Nickname = str(7)
	u.Avatar = str(8)
	u.City = str(9)
	u.Province = str(10)
	u.Nationality = str(11)
	u.Lang = str(12)
	u.Timezone = str(13)
	u.Sex = str(14)
	u.Signature = str(15)
	u.Remark = str(16)
	u.LogonMode = usercenter.LogonMode(num(17))
	if v[18].kind != '0' {
		u.ExternalID = str(18)
	}
	u.FullName = str(19)
	return err
}

// userCardValues are the values userCardColumn packs, in order: those of
// sqlstore.UserCardColumns.
var userCardValues = [...]string{"user_id", "sdk_app_id", "origin_id", "status", "nickname", "avatar"}

// userCardColumn is a user's card as one column, packed as a user's row
// is and for the same reason: a card is read by the hundred thousand, and
// one column instead of six spares the driver five columns' names,
// declared types, values and conversions (BenchmarkRandomRead).
var userCardColumn = `json_array(` + strings.Join(userCardValues[:], ", ") + `)`

// scanUserCard reads a row of userCardColumn.
func scanUserCard(row sqlstore.Scanner) (core.UserCard, error) {
	var (
		c      core.UserCard
		packed string
		v      [len(userCardValues)]jsonValue
	)
	if err := row.Scan(&packed); err != nil {
		return c, err
	}
	if err := splitJSONArray(packed, v[:]); err != nil {
		return c, err
	}
	for i := range v {
		if v[i].kind == '0' {
			return c, fmt.Errorf("sqlite: users.%s is NULL", userCardValues[i])
		}
	}
	app, err := strconv.ParseInt(v[1].text, 10, 64)
	if err != nil {
		return c, fmt.Errorf("sqlite: users.sdk_app_id: %w", err)
	}
	status, err := strconv.ParseInt(v[3].text, 10, 64)
	if err != nil {
		return c, fmt.Errorf("sqlite: users.status: %w", err)
	}
	c.ID, c.SdkAppID, c.OriginID = v[0].text, uint64(app), v[2].text
	c.Status, c.Nickname, c.Avatar = usercenter.UserStatus(status), v[4].text, v[5].text
	return c, nil
}
