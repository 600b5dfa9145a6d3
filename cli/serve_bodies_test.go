package cli

import (
	"strings"
	"testing"
)

// --body-memory-mib is checked before anything is opened, from the flag or
// from USERCENTER_BODY_MEMORY_MIB.
func TestServeBodyMemoryFlag(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--body-memory-mib", "15"}, "--body-memory-mib must be between 16 and 65536"},
		{nil, []string{"--body-memory-mib", "0"}, "--body-memory-mib must be between 16 and 65536"},
		{nil, []string{"--body-memory-mib", "65537"}, "--body-memory-mib must be between 16 and 65536"},
		{nil, []string{"--body-memory-mib", "64MiB"}, "body-memory-mib"},
		{map[string]string{"USERCENTER_BODY_MEMORY_MIB": "1"}, nil, "--body-memory-mib must be between 16 and 65536"},
	} {
		dir := t.TempDir()
		r := runCLI(t, c.env, append([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, c.args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("serve %v with %v: %s; want a failure saying %q", c.args, c.env, r, c.want)
		}
		if exists(t, dir+"/master.key") {
			t.Errorf("serve %v with %v created the master key before refusing", c.args, c.env)
		}
	}
}
