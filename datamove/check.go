package datamove

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The meta rows that tie the data to one instance: the master key check
// (sealed under the master key with a random nonce, so each instance's is
// unique) and the blind index key (random per instance). A destination
// holding other ones was initialised by a server of another instance or
// under another key, and copying into it would leave its lookups broken.
var instanceMeta = []string{"master_key_check", "blind_index_key"}

// checkDestination refuses, before anything is written, a destination
// that is not empty and not an earlier copy of this very source. An earlier
// copy has the source's instance meta, and no app, API key or audit event
// the source lacks; a user the source lacks must have been deleted there
// since (its deletion is in the source's audit trail). Together with the
// lock, which no server holds, this is what makes it safe to bring the
// destination in line with the source, removals included.
func (m *mover) checkDestination(ctx context.Context) error {
	for _, name := range instanceMeta {
		var srcVal []byte
		err := m.src.tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = ?`, name).Scan(&srcVal)
		srcHas := err == nil
		if err != nil && !isNoRows(err) {
			return fmt.Errorf("reading the source's meta: %w", err)
		}
		var dstVal []byte
		err = m.dst.QueryRow(ctx, `SELECT value FROM meta WHERE name = $1`, name).Scan(&dstVal)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading the destination's meta: %w", err)
		}
		if !srcHas || !bytes.Equal(srcVal, dstVal) {
			return refuse("the destination belongs to another usercenter instance: its %s differs from the source's, so a usercenter server has initialised it (with another master key, or as another instance), or the source's master key was rotated since an earlier copy, and copied values would not open or be found there; migrate into an empty database (drop and recreate it), and start no server on it before the move", name)
		}
	}

	for _, name := range []string{"apps", "api_keys"} {
		t := m.table(name)
		extra, err := m.destOnly(ctx, t)
		if err != nil {
			return err
		}
		if len(extra) > 0 {
			return refuse("the destination has %d %s the source lacks (%s): it is not a copy of this source; migrate into an empty database", len(extra), plural(len(extra), "row of "+name, "rows of "+name), examples(t, extra))
		}
	}

	users := m.table("users")
	extra, err := m.destOnly(ctx, users)
	if err != nil {
		return err
	}
	var foreign [][]any
	for _, key := range extra {
		var one int
		err := m.src.tx.QueryRowContext(ctx, `SELECT 1 FROM audit_events WHERE user_id = ? AND action = 'delete' LIMIT 1`, key[0]).Scan(&one)
		if isNoRows(err) {
			foreign = append(foreign, key)
			continue
		}
		if err != nil {
			return fmt.Errorf("reading the source's audit trail: %w", err)
		}
	}
	if len(foreign) > 0 {
		return refuse("the destination has %d %s the source never had (%s): it is not a copy of this source, or a server has used it; migrate into an empty database", len(foreign), plural(len(foreign), "user", "users"), examples(users, foreign))
	}

	var srcMax, dstMax int64
	if err := m.src.tx.QueryRowContext(ctx, `SELECT COALESCE(max(id), 0) FROM audit_events`).Scan(&srcMax); err != nil {
		return fmt.Errorf("reading the source's audit trail: %w", err)
	}
	if err := m.dst.QueryRow(ctx, `SELECT COALESCE(max(id), 0) FROM audit_events`).Scan(&dstMax); err != nil {
		return fmt.Errorf("reading the destination's audit trail: %w", err)
	}
	if dstMax > srcMax {
		return refuse("the destination has audit events the source lacks (IDs up to %d, the source's end at %d): a server has used it since it was copied; migrate into an empty database", dstMax, srcMax)
	}
	return nil
}

func examples(t *table, keys [][]any) string {
	const show = 3
	var parts []string
	for _, k := range keys[:min(show, len(keys))] {
		parts = append(parts, t.keyString(k))
	}
	s := strings.Join(parts, "; ")
	if len(keys) > show {
		s += "; …"
	}
	return s
}

// destOnly returns the keys of t's destination rows that the source
// lacks, by merging both sides' keys in order.
func (m *mover) destOnly(ctx context.Context, t *table) ([][]any, error) {
	cols := quoteList(t.keyCols())
	srows, err := m.src.tx.QueryContext(ctx, `SELECT `+cols+` FROM `+quote(t.name)+` ORDER BY `+t.sqliteOrderBy())
	if err != nil {
		return nil, fmt.Errorf("reading the source's %s: %w", t.name, err)
	}
	defer srows.Close()
	drows, err := m.dst.Query(ctx, `SELECT `+cols+` FROM `+quote(t.name)+` ORDER BY `+t.pgOrderBy())
	if err != nil {
		return nil, fmt.Errorf("reading the destination's %s: %w", t.name, err)
	}
	defer drows.Close()

	var srcKey []any
	nextSrc := func() error {
		srcKey = nil
		if srows.Next() {
			k, err := scanRow(srows, len(t.key))
			if err != nil {
				return err
			}
			srcKey = k
			return nil
		}
		return srows.Err()
	}
	if err := nextSrc(); err != nil {
		return nil, err
	}
	var out [][]any
	for drows.Next() {
		dk, err := drows.Values()
		if err != nil {
			return nil, err
		}
		for srcKey != nil && compareKeys(srcKey, dk) < 0 {
			if err := nextSrc(); err != nil {
				return nil, err
			}
		}
		if srcKey == nil || compareKeys(srcKey, dk) != 0 {
			out = append(out, dk)
		}
	}
	if err := drows.Err(); err != nil {
		return nil, fmt.Errorf("reading the destination's %s: %w", t.name, err)
	}
	return out, nil
}

// prune removes the destination rows that the source no longer has:
// those it deleted since an earlier run (users, with their tokens, links
// and codes; expired tokens and codes; cleared code attempts). Children go
// before parents. Audit events are never removed: the source never
// deletes any, and checkDestination has ruled out foreign ones.
func (m *mover) prune(ctx context.Context, reports map[string]*TableReport) error {
	order := slices.Clone(tableOrder)
	slices.Reverse(order)
	for _, name := range order {
		if name == "audit_events" || name == "events" {
			continue
		}
		t := m.table(name)
		extra, err := m.destOnly(ctx, t)
		if err != nil {
			return err
		}
		for len(extra) > 0 {
			n := min(len(extra), m.opts.Batch)
			tag, err := m.dst.Exec(ctx, `DELETE FROM `+quote(t.name)+` WHERE `+t.pgKeyIn(1), t.keyArrays(extra[:n])...)
			if err != nil {
				return fmt.Errorf("removing from the destination's %s the rows the source has deleted: %w", t.name, err)
			}
			reports[name].Removed += tag.RowsAffected()
			extra = extra[n:]
		}
	}
	return nil
}
