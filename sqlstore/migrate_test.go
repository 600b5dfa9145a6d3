package sqlstore

import (
	"reflect"
	"testing"
	"testing/fstest"
)

func TestMigrations(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0010_ten.sql":  {Data: []byte("ten")},
		"m/0002_two.sql":  {Data: []byte("two")},
		"m/0001_init.sql": {Data: []byte("one")},
	}
	ms, err := Migrations("sqlite", fsys, "m")
	want := []Migration{{1, "0001_init.sql", "one"}, {2, "0002_two.sql", "two"}, {10, "0010_ten.sql", "ten"}}
	if err != nil || !reflect.DeepEqual(ms, want) {
		t.Errorf("Migrations = %v, %v; want %v", ms, err, want)
	}

	for name, c := range map[string]struct {
		files fstest.MapFS
		err   string
	}{
		"no version":   {fstest.MapFS{"m/init.sql": {}}, "postgres: migration init.sql: name must start with a positive version and '_'"},
		"version 0":    {fstest.MapFS{"m/0000_x.sql": {}}, "postgres: migration 0000_x.sql: name must start with a positive version and '_'"},
		"no separator": {fstest.MapFS{"m/0001.sql": {}}, "postgres: migration 0001.sql: name must start with a positive version and '_'"},
		"shared":       {fstest.MapFS{"m/0001_a.sql": {}, "m/01_b.sql": {}}, "postgres: migrations 0001_a.sql and 01_b.sql share a version"},
	} {
		if _, err := Migrations("postgres", c.files, "m"); err == nil || err.Error() != c.err {
			t.Errorf("%s: err = %v, want %q", name, err, c.err)
		}
	}
}
