package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"usercenter"
	"usercenter/core"
	"usercenter/sqlstore"
)

var userPlaceholders = sqlstore.Question.List(1, strings.Count(sqlstore.UserColumns, ",")+1)

var (
	qUser         = oneUser(`u.user_id = ?`)
	qUserByOrigin = oneUser(`u.sdk_app_id = ? AND u.origin_id = ?`)
	// "external_id = ?" implies external_id IS NOT NULL, which lets
	// SQLite use the partial unique index.
	qUserByExternalID = oneUser(`u.sdk_app_id = ? AND u.external_id = ?`)
	qUserByLink       = oneUser(`u.user_id =
		(SELECT user_id FROM user_links WHERE sdk_app_id = ? AND provider = ? AND provider_user_id = ?)`)
	qCountUsers = readQuery(`SELECT count(*) FROM users WHERE sdk_app_id = ?`)
	qListUsers  = readQuery(`SELECT ` + userReadColumns + ` FROM users u WHERE sdk_app_id = ?
		ORDER BY created_at, user_id LIMIT ? OFFSET ?`)

	qUserLinks = readQuery(`SELECT user_id, provider, provider_user_id FROM user_links WHERE user_id = ?`)
	// The users go in as one JSON array, like the apps of UsersByOrigin,
	// so a page of any size needs this one statement.
	qUsersLinks = readQuery(`SELECT user_id, provider, provider_user_id FROM user_links
		WHERE user_id IN (SELECT value FROM json_each(?))`)
)

// oneUser makes the query for a single user that also returns its links,
// one row per link, or one row with NULL provider if it has none. User
// and links then come from one statement, and so from one consistent view,
// without the cost of a read transaction around two queries.
func oneUser(where string) string {
	return readQuery(`SELECT ` + userReadColumns + `, l.provider, l.provider_user_id
		FROM users u LEFT JOIN user_links l ON l.user_id = u.user_id WHERE ` + where)
}

// scanUser reads the columns of userReadColumns, then extra.
func scanUser(row sqlstore.Scanner, extra ...any) (core.UserRecord, error) {
	var (
		u      core.UserRecord
		packed string
	)
	dest := append([]any{&packed, &u.SealedPhone, &u.PhoneIndex, &u.SealedEmail, &u.EmailIndex, &u.SealedAddress}, extra...)
	if err := row.Scan(dest...); err != nil {
		return u, err
	}
	return u, decodeUserRow(packed, &u)
}

// users runs a query for users and collects them with their links. q must
// be a snapshot, so that the links belong to the users as read.
func (r *reader) users(ctx context.Context, q runner, query string, args ...any) ([]core.UserRecord, error) {
	scan := func(row sqlstore.Scanner) (core.UserRecord, error) { return scanUser(row) }
	users, err := sqlstore.All(ctx, r.on(q), scan, query, args...)
	if err != nil {
		return nil, err
	}
	if err := r.links(ctx, q, users); err != nil {
		return nil, err
	}
	return users, nil
}

// links fills in the ThirdParty of users with one query, however many
// there are. A user without links keeps a nil map.
func (r *reader) links(ctx context.Context, q runner, users []core.UserRecord) error {
	var (
		rows *sql.Rows
		err  error
	)
	switch len(users) {
	case 0:
		return nil
	case 1:
		rows, err = q.query(ctx, qUserLinks, users[0].ID)
	default:
		ids := make([]string, len(users))
		for i := range users {
			ids[i] = users[i].ID
		}
		list, jerr := json.Marshal(ids)
		if jerr != nil {
			return usercenter.Internal(jerr)
		}
		rows, err = q.query(ctx, qUsersLinks, string(list))
	}
	if err != nil {
		return r.fail(ctx, err)
	}
	defer rows.Close()
	at := make(map[string]int, len(users))
	for i := range users {
		at[users[i].ID] = i
	}
	for rows.Next() {
		var userID, provider, providerUserID string
		if err := rows.Scan(&userID, &provider, &providerUserID); err != nil {
			return r.fail(ctx, err)
		}
		i, ok := at[userID]
		if !ok {
			continue
		}
		u := &users[i]
		if u.ThirdParty == nil {
			u.ThirdParty = make(map[usercenter.Provider]string)
		}
		u.ThirdParty[usercenter.Provider(provider)] = providerUserID
	}
	if err := rows.Err(); err != nil {
		return r.fail(ctx, err)
	}
	return nil
}

// user reads the user a oneUser query finds, with its links.
func (r *reader) user(ctx context.Context, query string, args ...any) (*core.UserRecord, error) {
	ctx, err := r.point(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := r.run.query(ctx, query, args...)
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	defer rows.Close()
	var u *core.UserRecord
	for rows.Next() {
		var provider, providerUserID *string
		row, err := scanUser(rows, &provider, &providerUserID)
		if err != nil {
			return nil, r.fail(ctx, err)
		}
		if u == nil {
			u = &row
		}
		if provider != nil {
			if u.ThirdParty == nil {
				u.ThirdParty = make(map[usercenter.Provider]string)
			}
			u.ThirdParty[usercenter.Provider(*provider)] = *providerUserID
		}
	}
	if err := rows.Err(); err != nil {
		return nil, r.fail(ctx, err)
	}
	if u == nil {
		return nil, usercenter.NotFound(usercenter.ResourceUser)
	}
	return u, nil
}

// userList runs a query for several users in one snapshot.
func (r *reader) userList(ctx context.Context, query string, args ...any) ([]core.UserRecord, error) {
	var users []core.UserRecord
	err := r.snapshot(ctx, func(ctx context.Context, q runner) error {
		var err error
		users, err = r.users(ctx, q, query, args...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return users, nil
}

// ListUsers returns users offset to offset+limit-1 of the app in creation
// order, and how many users it has. A limit of 0 or less returns no users,
// only the count.
func (r *reader) ListUsers(ctx context.Context, sdkAppID uint64, offset, limit int) ([]core.UserRecord, int, error) {
	var (
		users []core.UserRecord
		total int
	)
	err := r.snapshot(ctx, func(ctx context.Context, q runner) error {
		err := q.queryRow(ctx, qCountUsers, int64(sdkAppID)).Scan(&total)
		if err != nil {
			return r.fail(ctx, err)
		}
		if limit <= 0 || offset >= total {
			return nil
		}
		users, err = r.users(ctx, q, qListUsers, int64(sdkAppID), limit, max(offset, 0))
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return users, total, nil
}

// InsertUser stores u and its links; it fails with NotFound (app) if u's
// app does not exist. A link with an empty provider user ID is no link.
func (t *txn) InsertUser(ctx context.Context, u *core.UserRecord) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	args, err := sqlstore.UserArgs(engine, u)
	if err != nil {
		return err
	}
	return t.insertUser(ctx, u, args)
}

// insertUser stores u, whose sqlstore.UserArgs are args, and its links.
func (t *txn) insertUser(ctx context.Context, u *core.UserRecord, args []any) error {
	insert := func() error {
		_, err := t.exec(ctx, `INSERT INTO users (`+sqlstore.UserColumns+`) VALUES (`+userPlaceholders+`)`, args...)
		if err != nil {
			return t.failWrite(err, usercenter.ResourceApp)
		}
		return t.insertLinks(ctx, u.ID, u.ThirdParty)
	}
	if len(u.ThirdParty) == 0 {
		return insert() // one statement is atomic without a savepoint
	}
	return t.atomically(ctx, insert)
}

// UpdateUser writes u's mutable fields and replaces its links; its
// SdkAppID and CreatedAt are ignored, and its ID finds it.
func (t *txn) UpdateUser(ctx context.Context, u *core.UserRecord) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	set, err := sqlstore.UserUpdateArgs(engine, u)
	if err != nil {
		return err
	}
	return t.atomically(ctx, func() error {
		err := t.execFound(ctx, usercenter.ResourceUser, `UPDATE users SET origin_id = ?, status = ?, updated_at = ?, last_login_at = ?,
			nickname = ?, avatar = ?, city = ?, province = ?, nationality = ?, lang = ?, timezone = ?,
			sex = ?, signature = ?, remark = ?, logon_mode = ?,
			phone_enc = ?, phone_idx = ?, email_enc = ?, email_idx = ?, address_enc = ?,
			external_id = ?, full_name = ?
			WHERE user_id = ?`, set...)
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, `DELETE FROM user_links WHERE user_id = ?`, u.ID); err != nil {
			return t.fail(err)
		}
		return t.insertLinks(ctx, u.ID, u.ThirdParty)
	})
}

// insertLinks adds links to a user who has none. The app of each link is
// read from the user's row, not taken from the caller, so that a link can
// never be scoped to another app than its user's.
func (t *txn) insertLinks(ctx context.Context, userID string, links map[usercenter.Provider]string) error {
	for p, id := range sqlstore.Links(links) {
		_, err := t.exec(ctx, `INSERT INTO user_links (user_id, sdk_app_id, provider, provider_user_id)
			SELECT user_id, sdk_app_id, ?, ? FROM users WHERE user_id = ?`, string(p), id, userID)
		if err != nil {
			if cols, ok := uniqueColumns(err); ok && cols == linkKey {
				return sqlstore.LinkConflict(p, err)
			}
			return t.fail(err)
		}
	}
	return nil
}

// DeleteUser removes the user; its tokens, links, codes and code attempts
// go with it (ON DELETE CASCADE), its audit events stay.
func (t *txn) DeleteUser(ctx context.Context, userID string) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	return t.execFound(ctx, usercenter.ResourceUser, `DELETE FROM users WHERE user_id = ?`, userID)
}
