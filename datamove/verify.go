package datamove

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"usercenter/core"
	"usercenter/vault"
)

// maxListed bounds the differences listed per table.
const maxListed = 10

// verify compares the destination with the source snapshot: row counts of
// every table, and a random sample of rows compared column by column, byte
// for byte. With a keyring it also opens sealed values of the sample in
// the destination. Differences go to rep.Problems.
func (m *mover) verify(ctx context.Context, rep *Report, reports map[string]*TableReport) error {
	samples := map[string][][]any{}
	for _, t := range m.tables {
		r := reports[t.name]
		if err := m.dst.QueryRow(ctx, `SELECT count(*) FROM `+quote(t.name)).Scan(&r.Destination); err != nil {
			return fmt.Errorf("counting the destination's %s: %w", t.name, err)
		}
		src := m.counts[t.name]
		switch {
		case r.Destination < src:
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s: the destination has %d rows, %d fewer than the source", t.name, r.Destination, src-r.Destination))
		case r.Destination > src:
			extra, err := m.destOnly(ctx, t)
			if err != nil {
				return err
			}
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s: the destination has %d rows, %d more than the source: %s", t.name, r.Destination, r.Destination-src, examples(t, extra)))
		}

		n, dest, problems, err := m.compareSample(ctx, t)
		if err != nil {
			return err
		}
		samples[t.name] = dest
		r.Sampled = n
		rep.Problems = append(rep.Problems, problems...)
	}
	if m.opts.Keyring != nil {
		d, problems, err := m.decrypt(ctx, samples)
		if err != nil {
			return err
		}
		rep.Decrypted = d
		rep.Problems = append(rep.Problems, problems...)
	}
	return nil
}

// compareSample draws up to opts.Sample rows of t from the source at
// random and compares each with the destination's row of the same key. It
// returns how many rows it drew, and the destination's rows among them.
func (m *mover) compareSample(ctx context.Context, t *table) (int, [][]any, []string, error) {
	cols := quoteList(t.cols)
	rows, err := m.src.tx.QueryContext(ctx, `SELECT `+cols+` FROM `+quote(t.name)+` ORDER BY random() LIMIT ?`, m.opts.Sample)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("sampling the source's %s: %w", t.name, err)
	}
	var sample [][]any
	for rows.Next() {
		row, err := scanRow(rows, len(t.cols))
		if err != nil {
			rows.Close()
			return 0, nil, nil, err
		}
		sample = append(sample, row)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, nil, nil, fmt.Errorf("sampling the source's %s: %w", t.name, err)
	}
	if len(sample) == 0 {
		return 0, nil, nil, nil
	}

	keys := make([][]any, len(sample))
	for i, row := range sample {
		keys[i] = t.keyOf(row)
	}
	drows, err := m.dst.Query(ctx, `SELECT `+cols+` FROM `+quote(t.name)+` WHERE `+t.pgKeyIn(1), t.keyArrays(keys)...)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("reading the destination's %s: %w", t.name, err)
	}
	dest, err := pgx.CollectRows(drows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
	if err != nil {
		return 0, nil, nil, fmt.Errorf("reading the destination's %s: %w", t.name, err)
	}
	byKey := make(map[string][]any, len(dest))
	for _, row := range dest {
		byKey[keyID(t.keyOf(row))] = row
	}

	var diffs []string
	for _, row := range sample {
		key := t.keyOf(row)
		d, ok := byKey[keyID(key)]
		if !ok {
			diffs = append(diffs, t.keyString(key)+": missing")
			continue
		}
		var differ []string
		for i := range t.cols {
			if !equalValues(row[i], d[i]) {
				differ = append(differ, t.cols[i])
			}
		}
		if len(differ) > 0 {
			// Names the columns only: the values may be personal data.
			diffs = append(diffs, t.keyString(key)+": "+strings.Join(differ, ", ")+" differ")
		}
	}
	var problems []string
	if len(diffs) > 0 {
		listed := diffs[:min(len(diffs), maxListed)]
		more := ""
		if len(diffs) > maxListed {
			more = fmt.Sprintf("; and %d more", len(diffs)-maxListed)
		}
		problems = append(problems, fmt.Sprintf("%s: %d of %d sampled rows differ from the source: %s%s", t.name, len(diffs), len(sample), strings.Join(listed, "; "), more))
	}
	return len(sample), dest, problems, nil
}

// keyID is an exact, comparable form of a key.
func keyID(key []any) string {
	var b strings.Builder
	for _, v := range key {
		switch v := v.(type) {
		case int64:
			b.WriteString("i" + strconv.FormatInt(v, 10))
		case string:
			b.WriteString("s" + strconv.Quote(v))
		case []byte:
			b.WriteString("b" + hex.EncodeToString(v))
		}
		b.WriteByte(0)
	}
	return b.String()
}

// open opens one sealed value with the associated data core sealed it
// with. Values are opened here rather than through core.Service, because
// the service reveals personal data only with an audit event (which would
// change the copy being verified) and refuses the users of disabled apps
// and revoked keys.
func open(ring *vault.Keyring, sealed any, kind core.SealedKind, rowKey string) error {
	aad, err := core.AssociatedData(kind, rowKey)
	if err != nil {
		return err
	}
	_, err = ring.Open(asBytes(sealed), aad)
	return err
}

// decrypt opens, in the destination, the sealed values of the sampled
// rows with the master key: every sampled app's SuperApp secret, API
// key's secret and user's phone, email and address.
func (m *mover) decrypt(ctx context.Context, samples map[string][][]any) (*DecryptReport, []string, error) {
	ring := m.opts.Keyring
	var problems []string
	var check []byte
	err := m.dst.QueryRow(ctx, `SELECT value FROM meta WHERE name = 'master_key_check'`).Scan(&check)
	if errors.Is(err, pgx.ErrNoRows) {
		// An instance no service ever opened holds nothing sealed; and
		// core.NewService would initialise the destination's meta.
		return &DecryptReport{}, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading the destination's meta: %w", err)
	}
	// core decides whether the key is the instance's: it opens the key
	// check and the blind index key, as a server starting there would.
	if _, err := core.NewService(ctx, m.store, ring); err != nil {
		if errors.Is(err, core.ErrWrongMasterKey) {
			return nil, []string{"the master key does not open the destination's values: " + err.Error()}, nil
		}
		return nil, nil, fmt.Errorf("opening the destination with the master key: %w", err)
	}

	d := &DecryptReport{}
	failed := map[string][]string{}
	fail := func(table, what string) { failed[table] = append(failed[table], what) }
	col := func(t *table, name string) int {
		for i, c := range t.cols {
			if c == name {
				return i
			}
		}
		panic("datamove: no column " + t.name + "." + name)
	}

	apps := m.table("apps")
	for _, row := range samples["apps"] {
		id := row[col(apps, "sdk_app_id")].(int64)
		if err := open(ring, row[col(apps, "superapp_secret")], core.SealedAppSecret, fmt.Sprintf("%020d", uint64(id))); err != nil {
			fail("apps", fmt.Sprintf("the SuperApp secret of app %d", uint64(id)))
			continue
		}
		d.Apps++
	}
	keys := m.table("api_keys")
	for _, row := range samples["api_keys"] {
		id := row[col(keys, "secret_id")].(string)
		if err := open(ring, row[col(keys, "secret_key")], core.SealedKeySecret, id); err != nil {
			fail("api_keys", "the secret of key "+id)
			continue
		}
		d.Keys++
	}
	users := m.table("users")
	for _, row := range samples["users"] {
		id := row[col(users, "user_id")].(string)
		ok := true
		for f, kind := range map[string]core.SealedKind{"phone": core.SealedUserPhone, "email": core.SealedUserEmail, "address": core.SealedUserAddress} {
			sealed := row[col(users, f+"_enc")]
			if sealed == nil {
				continue
			}
			if err := open(ring, sealed, kind, id); err != nil {
				fail("users", fmt.Sprintf("the %s of user %s", f, id))
				ok = false
			}
		}
		if ok {
			d.Users++
		}
	}
	for _, table := range []string{"apps", "api_keys", "users"} {
		list := failed[table]
		if len(list) == 0 {
			continue
		}
		more := ""
		if len(list) > maxListed {
			more = fmt.Sprintf("; and %d more", len(list)-maxListed)
		}
		problems = append(problems, fmt.Sprintf("%s: sampled sealed values that do not open with the master key in the destination (%d): %s%s",
			table, len(list), strings.Join(list[:min(len(list), maxListed)], "; "), more))
	}
	return d, problems, nil
}

func asBytes(v any) []byte {
	b, _ := v.([]byte)
	return b
}
