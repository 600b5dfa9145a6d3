package sqlstore

import (
	"usercenter/core"
)

// TokenColumns are the columns of tokens in the order of TokenArgs and
// ScanToken.
const TokenColumns = `token_hash, user_id, sdk_app_id, created_at, expires_at`

// TokenArgs returns the values of tok's TokenColumns.
func TokenArgs(engine string, tok *core.Token) ([]any, error) {
	ts := rowTimes{engine: engine}
	return ts.row(tok.Hash, tok.UserID, int64(tok.SdkAppID),
		ts.at("tokens.created_at", tok.CreatedAt), ts.at("tokens.expires_at", tok.ExpiresAt))
}

// ScanToken reads a row of TokenColumns.
func ScanToken(row Scanner) (core.Token, error) {
	var (
		t                    core.Token
		app                  int64
		createdAt, expiresAt int64
	)
	if err := row.Scan(&t.Hash, &t.UserID, &app, &createdAt, &expiresAt); err != nil {
		return t, err
	}
	t.SdkAppID = uint64(app)
	t.CreatedAt = DecodeTime(createdAt)
	t.ExpiresAt = DecodeTime(expiresAt)
	return t, nil
}

// EnterpriseTokenColumns are the columns of enterprise_tokens in the order
// of EnterpriseTokenArgs and ScanEnterpriseToken.
const EnterpriseTokenColumns = `token_hash, secret_id, created_at, expires_at`

// EnterpriseTokenArgs returns the values of tok's EnterpriseTokenColumns.
func EnterpriseTokenArgs(engine string, tok *core.EnterpriseToken) ([]any, error) {
	ts := rowTimes{engine: engine}
	return ts.row(tok.Hash, tok.SecretID,
		ts.at("enterprise_tokens.created_at", tok.CreatedAt), ts.at("enterprise_tokens.expires_at", tok.ExpiresAt))
}

// ScanEnterpriseToken reads a row of EnterpriseTokenColumns.
func ScanEnterpriseToken(row Scanner) (core.EnterpriseToken, error) {
	var (
		t                    core.EnterpriseToken
		createdAt, expiresAt int64
	)
	if err := row.Scan(&t.Hash, &t.SecretID, &createdAt, &expiresAt); err != nil {
		return t, err
	}
	t.CreatedAt = DecodeTime(createdAt)
	t.ExpiresAt = DecodeTime(expiresAt)
	return t, nil
}

// CheckKeep fails with EInvalid (Field "keep") for a negative number of
// enterprise tokens to keep (TrimEnterpriseTokens).
func CheckKeep(keep int) error {
	if keep < 0 {
		return misuse("the number of tokens to keep must not be negative")
	}
	return nil
}
