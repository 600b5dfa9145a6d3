package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"usercenter"
	"usercenter/core"
	"usercenter/sqlstore"
)

var userPlaceholders = sqlstore.Dollar.List(1, strings.Count(sqlstore.UserColumns, ",")+1)

// usersQuery makes a query for users that also returns each user's links,
// as two arrays aligned by provider. Users and links then come from one
// statement, and so from one consistent view, in one round trip, whatever
// the number of users. The users are chosen (and a page cut) first, in a
// subquery, so that links are loaded only for the users returned, not for
// those an OFFSET skips; the lateral subquery reads them through
// user_links_user_id_provider_key. where and order use the alias u.
func usersQuery(where, order, limit string) string {
	cols := strings.Split(sqlstore.UserColumns, ",")
	for i, c := range cols {
		cols[i] = "u." + strings.TrimSpace(c)
	}
	list := strings.Join(cols, ", ")
	return `SELECT ` + list + `, l.providers, l.ids
		FROM (SELECT ` + list + ` FROM users u WHERE ` + where + order + limit + `) u
		CROSS JOIN LATERAL (SELECT array_agg(provider ORDER BY provider) AS providers,
			array_agg(provider_user_id ORDER BY provider) AS ids
			FROM user_links WHERE user_id = u.user_id) l` + order
}

var (
	qCountUsers = `SELECT count(*) FROM users WHERE sdk_app_id = $1`
	qListUsers  = usersQuery(`u.sdk_app_id = $1`, ` ORDER BY u.created_at, u.user_id`, ` LIMIT $2 OFFSET $3`)
)

// scanUser reads a row of usersQuery. A user without links keeps a nil
// ThirdParty.
func scanUser(row sqlstore.Scanner) (core.UserRecord, error) {
	var (
		u                    core.UserRecord
		app                  int64
		createdAt, updatedAt int64
		lastLoginAt          *int64
		providers, ids       []string
		externalID           *string
	)
	err := row.Scan(&u.ID, &app, &u.OriginID, &u.Status, &createdAt, &updatedAt, &lastLoginAt,
		&u.Nickname, &u.Avatar, &u.City, &u.Province, &u.Nationality, &u.Lang, &u.Timezone,
		&u.Sex, &u.Signature, &u.Remark, &u.LogonMode,
		&u.SealedPhone, &u.PhoneIndex, &u.SealedEmail, &u.EmailIndex, &u.SealedAddress,
		&externalID, &u.FullName,
		&providers, &ids)
	if err != nil {
		return u, err
	}
	u.SdkAppID = uint64(app)
	if externalID != nil {
		u.ExternalID = *externalID
	}
	u.CreatedAt = sqlstore.DecodeTime(createdAt)
	u.UpdatedAt = sqlstore.DecodeTime(updatedAt)
	u.LastLoginAt = sqlstore.DecodeNullTime(lastLoginAt)
	if len(providers) != len(ids) {
		return u, errors.New("postgres: a user's link arrays differ in length")
	}
	for i, p := range providers {
		if u.ThirdParty == nil {
			u.ThirdParty = make(map[usercenter.Provider]string, len(providers))
		}
		u.ThirdParty[usercenter.Provider(p)] = ids[i]
	}
	return u, nil
}

// user reads the one user a query finds, with its links.
func (r *reader) user(ctx context.Context, query string, args ...any) (*core.UserRecord, error) {
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	u, err := scanUser(r.queryRow(ctx, query, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, usercenter.NotFound(usercenter.ResourceUser)
	}
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	return &u, nil
}

// users reads the users a query finds, with their links.
func (r *reader) users(ctx context.Context, query string, args ...any) ([]core.UserRecord, error) {
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	return sqlstore.All(ctx, (*readEngine)(r), scanUser, query, args...)
}

// ListUsers returns users offset to offset+limit-1 of the app in creation
// order, and how many users it has. A limit of 0 or less returns no users,
// only the count.
//
// Count and page are two statements that must see one state of the
// database. Inside Update the transaction sees to that; outside, they run
// in a read-only REPEATABLE READ transaction, pipelined with its BEGIN and
// COMMIT so that the whole costs one round trip.
func (r *reader) ListUsers(ctx context.Context, sdkAppID uint64, offset, limit int) ([]core.UserRecord, int, error) {
	if err := r.begin(ctx); err != nil {
		return nil, 0, err
	}
	offset = max(offset, 0)
	var (
		users []core.UserRecord
		total int
		err   error
	)
	if limit <= 0 {
		if err := r.q().QueryRow(ctx, qCountUsers, int64(sdkAppID)).Scan(&total); err != nil {
			return nil, 0, r.fail(ctx, err)
		}
		return nil, total, nil
	}
	if r.tx != nil {
		if err := r.q().QueryRow(ctx, qCountUsers, int64(sdkAppID)).Scan(&total); err != nil {
			return nil, 0, r.fail(ctx, err)
		}
		if offset >= total {
			return nil, total, nil
		}
		users, err = sqlstore.All(ctx, (*readEngine)(r), scanUser, qListUsers, int64(sdkAppID), limit, offset)
		if err != nil {
			return nil, 0, err
		}
		return users, total, nil
	}

	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`)
	b.Queue(qCountUsers, int64(sdkAppID)).QueryRow(func(row pgx.Row) error { return row.Scan(&total) })
	b.Queue(qListUsers, int64(sdkAppID), limit, offset).Query(func(rows pgx.Rows) error {
		var err error
		users, err = sqlstore.Collect(rows, scanUser)
		return err
	})
	b.Queue(`COMMIT`)
	// Close reads every result through the callbacks above; a connection
	// left inside the transaction by an error is discarded by the pool.
	if err := r.s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, 0, r.fail(ctx, err)
	}
	return users, total, nil
}

// qInsertLink adds a link to a user. The app of the link is read from the
// user's row, not taken from the caller, so that a link can never be
// scoped to another app than its user's.
const qInsertLink = `INSERT INTO user_links (user_id, sdk_app_id, provider, provider_user_id)
	SELECT user_id, sdk_app_id, $1, $2 FROM users WHERE user_id = $3`

// linkSteps returns the statements that add links to a user who has none,
// in provider order, so that of several conflicting links the same one is
// always reported. A link with an empty provider user ID is no link.
func linkSteps(userID string, links map[usercenter.Provider]string) (steps []step, providers []usercenter.Provider) {
	for p, id := range sqlstore.Links(links) {
		steps = append(steps, step{qInsertLink, []any{string(p), id, userID}})
		providers = append(providers, p)
	}
	return steps, providers
}

// linkConflict maps the error of a link's insert.
func linkConflict(err error, p usercenter.Provider) error {
	if uniqueConstraint(err) == linkKey {
		return sqlstore.LinkConflict(p, err)
	}
	return nil
}

// InsertUser stores u and its links, all or nothing; it fails with
// NotFound (app) if u's app does not exist.
func (t *txn) InsertUser(ctx context.Context, u *core.UserRecord) error {
	if err := t.beginBatched(ctx); err != nil {
		return err
	}
	args, err := sqlstore.UserArgs(engine, u)
	if err != nil {
		return err
	}
	links, providers := linkSteps(u.ID, u.ThirdParty)
	steps := append([]step{{`INSERT INTO users (` + sqlstore.UserColumns + `) VALUES (` + userPlaceholders + `)`, args}}, links...)
	_, failed, err := t.atomically(ctx, steps...)
	switch {
	case err == nil:
		return nil
	case failed == 0:
		return t.failWrite(ctx, err, usercenter.ResourceApp)
	case failed > 0:
		if c := linkConflict(err, providers[failed-1]); c != nil {
			return c
		}
	}
	return t.failWrite(ctx, err, "")
}

// UpdateUser writes u's mutable fields and replaces its links, all or
// nothing; its SdkAppID and CreatedAt are ignored, and its ID finds it.
func (t *txn) UpdateUser(ctx context.Context, u *core.UserRecord) error {
	begin := t.begin
	if t.lockedUsers[u.ID] {
		// fn read the row through User, which locked it, so what fn
		// writes back is the latest version: no concurrent write is lost.
		begin = t.beginBatched
	}
	if err := begin(ctx); err != nil {
		return err
	}
	set, err := sqlstore.UserUpdateArgs(engine, u)
	if err != nil {
		return err
	}
	links, providers := linkSteps(u.ID, u.ThirdParty)
	steps := append([]step{
		{`UPDATE users SET origin_id = $1, status = $2, updated_at = $3, last_login_at = $4,
			nickname = $5, avatar = $6, city = $7, province = $8, nationality = $9, lang = $10, timezone = $11,
			sex = $12, signature = $13, remark = $14, logon_mode = $15,
			phone_enc = $16, phone_idx = $17, email_enc = $18, email_idx = $19, address_enc = $20,
			external_id = $21, full_name = $22
			WHERE user_id = $23`, set},
		{`DELETE FROM user_links WHERE user_id = $1`, []any{u.ID}},
	}, links...)
	// When the user does not exist every statement changes nothing, so
	// there is nothing to undo.
	tags, failed, err := t.atomically(ctx, steps...)
	switch {
	case err == nil:
		if tags[0].RowsAffected() == 0 {
			return usercenter.NotFound(usercenter.ResourceUser)
		}
		return nil
	case failed >= 2:
		if c := linkConflict(err, providers[failed-2]); c != nil {
			return c
		}
	}
	return t.failWrite(ctx, err, "")
}

// DeleteUser removes the user; its tokens, links, codes and code attempts
// go with it (ON DELETE CASCADE), its audit events stay.
func (t *txn) DeleteUser(ctx context.Context, userID string) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	if !storable(userID) {
		return usercenter.NotFound(usercenter.ResourceUser) // no row can have that ID
	}
	return t.execFound(ctx, usercenter.ResourceUser, `DELETE FROM users WHERE user_id = $1`, userID)
}
