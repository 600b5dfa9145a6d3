package cli

import (
	"strings"
	"testing"
)

// --cache-ttl is checked before anything is opened, from the flag or from
// USERCENTER_CACHE_TTL.
func TestServeCacheTTLFlag(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--cache-ttl", "500ms"}, "--cache-ttl must be between 1s and 24h0m0s"},
		{nil, []string{"--cache-ttl", "-5m"}, "--cache-ttl must be between 1s and 24h0m0s"},
		{nil, []string{"--cache-ttl", "25h"}, "--cache-ttl must be between 1s and 24h0m0s"},
		{nil, []string{"--cache-ttl", "long"}, "cache-ttl"},
		{map[string]string{"USERCENTER_CACHE_TTL": "0s"}, nil, "--cache-ttl must be between 1s and 24h0m0s"},
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
