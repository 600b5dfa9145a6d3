// Package sqlstore is what the SQL stores share: the row encodings (an
// Args function and a Scan function per table), the schema facts both
// engines follow, the domain errors they build, and the reads that differ
// between them only in their SQL (Reader). The sqlite and postgres
// packages keep their drivers, their driver errors, their connections and
// transactions, and the SQL text that is their own; what differs between
// them and matters here (the engine's name in error messages, how it
// writes query parameters, how it runs a read) is passed in.
package sqlstore

import (
	"strconv"
	"strings"
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

// Scanner is a row of either engine's driver: a *sql.Row or *sql.Rows of
// database/sql, a pgx.Row or pgx.Rows. The Scan functions here read one.
type Scanner interface{ Scan(dest ...any) error }

// NullBytes stores an empty byte slice as NULL, which is how the schema
// says "none" for ciphertexts and blind indexes.
func NullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// Rows are the rows of a query of either engine's driver: pgx.Rows, or
// *sql.Rows with a Close that drops its error (which Err reports).
type Rows interface {
	Scanner
	Next() bool
	Err() error
	Close()
}

// Each reads every row of rows with scan, and returns the first error of
// either.
func Each(rows Rows, scan func(Scanner) error) error {
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Collect reads every row of rows with scan into a slice, nil for none.
func Collect[T any](rows Rows, scan func(Scanner) (T, error)) ([]T, error) {
	var out []T
	err := Each(rows, func(row Scanner) error {
		v, err := scan(row)
		if err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
