// Package sqlstore is what the SQL stores share: the row encodings and the
// schema facts both engines follow. The sqlite and postgres packages keep
// their drivers, their driver errors and the SQL text that is their own;
// what differs between them and matters here (the engine's name in error
// messages, how it writes query parameters) is passed in.
package sqlstore

import (
	"strconv"
	"strings"

	"usercenter"
)

// Placeholder is how an engine writes query parameters.
type Placeholder int

const (
	// Question is SQLite's style: every parameter is "?", bound in order.
	Question Placeholder = iota
	// Dollar is PostgreSQL's: "$1", "$2", …, by number, so one parameter
	// may stand in several places.
	Dollar
)

// Nth returns parameter n, counting from 1.
func (p Placeholder) Nth(n int) string {
	if p == Dollar {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// List returns n parameters, numbered from from, for a VALUES list.
func (p Placeholder) List(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Nth(from + i))
	}
	return b.String()
}

// Scanner is a row of either engine's driver.
type Scanner interface{ Scan(dest ...any) error }

// NullBytes stores an empty byte slice as NULL, which is how the schema
// says "none" for ciphertexts and blind indexes.
func NullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// Conflict is the EConflict of a uniqueness violation on field. The
// message names only the field, never the value: both databases' own
// messages, kept in Err for logs, name it.
func Conflict(field usercenter.Field, err error) error {
	return &usercenter.Error{Code: usercenter.EConflict, Field: field, Message: "is already taken", Err: err}
}
