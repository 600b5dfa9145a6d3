package restapi

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// FuzzScanImport checks the fast scan of an import's body against the
// slow split: whatever the scan vouches for, the split accepts and splits
// the same way, so the fast path never changes an answer.
func FuzzScanImport(f *testing.F) {
	for _, s := range []string{
		`{"users": []}`,
		`{"users": [{}]}`,
		` { "users" : [ { "nickname" : "a" } , {"phone":"+8613612346688","email":"a@b.c"} ] } `,
		`{"users": [{"nickname": "a\"b\\c\u00e9", "status": 1, "logonMode": -3, "remark": null}]}`,
		`{"users": [{"thirdPartyIds": {"qq": "1", "apple": null}}, {"thirdPartyIds": {}}]}`,
		`{"users": [{"thirdPartyIds": {"qq": "1", "qq": "2"}}]}`,
		`{"users": [{"thirdPartyIds": {"qq": {"a": 1}}}]}`,
		`{"users": [{"nickname": "a", "nickname": "b"}]}`,
		`{"users": [{"nickname": "a", "nick\u006eame": "b"}]}`,
		`{"users": [{"city": {}}]}`,
		`{"users": [{"city": []}]}`,
		`{"users": [[]]}`,
		`{"users": [null, 1, "a"]}`,
		`{"users": [], "users": []}`,
		`{"users": [], "x": 1}`,
		`{"x": 1, "users": []}`,
		`{"users": {}}`,
		`{"us\u0065rs": []}`,
		`[]`,
		`{"users": [{"nickname": "\ud800"}]}`,
		"{\"users\": [{\"nickname\": \"\xff\"}]}",
		`{"users": [{"nickname": "a"}]} x`,
		`{"users": [{"remark": ` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}]}`,
		`{"users": [{"status": 1e3, "logonMode": 1.0, "nickname": true}]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		fast, ok := scanImport([]byte(body))
		if !ok {
			return
		}
		slow, err := splitImport([]byte(body))
		if err != nil {
			t.Fatalf("scanImport accepted %q, splitImport refused it: %v", body, err)
		}
		if len(fast) != len(slow) {
			t.Fatalf("%q: scan %d users, split %d", body, len(fast), len(slow))
		}
		for i := range fast {
			if len(fast[i]) != len(slow[i]) {
				t.Fatalf("%q: user %d: scan %v, split %v", body, i, fast[i], slow[i])
			}
			for j := range fast[i] {
				if fast[i][j].name != slow[i][j].name || !reflect.DeepEqual([]byte(fast[i][j].raw), []byte(slow[i][j].raw)) {
					t.Fatalf("%q: user %d member %d: scan %s=%s, split %s=%s", body, i, j,
						fast[i][j].name, fast[i][j].raw, slow[i][j].name, slow[i][j].raw)
				}
			}
			fp, ferr := userPatch(fast[i])
			sp, serr := userPatch(slow[i])
			if !reflect.DeepEqual(fp, sp) || !reflect.DeepEqual(ferr, serr) {
				t.Fatalf("%q: user %d: patches differ", body, i)
			}
		}
	})
}

// BenchmarkImportBody decodes a 1,000-user import body as the bench's
// seeding sends it; ns/op is per user. The slow way is what every body
// would cost if checked as decodeUserBody checks one user's.
func BenchmarkImportBody(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"users":[`)
	for i := range 1000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"originId":"sabc123-%d","nickname":"bench user %d","phone":"+86139%08d","email":"u%d.abc123@bench.example"}`, i, i, i, i)
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	for _, way := range []struct {
		name  string
		split func([]byte) ([][]member, error)
	}{
		{"scan", func(b []byte) ([][]member, error) {
			users, ok := scanImport(b)
			if !ok {
				return nil, fmt.Errorf("not vouched for")
			}
			return users, nil
		}},
		{"slow", splitImport},
	} {
		b.Run(way.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i += 1000 {
				users, err := way.split(body)
				if err != nil {
					b.Fatal(err)
				}
				for _, m := range users {
					if _, err := userPatch(m); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
