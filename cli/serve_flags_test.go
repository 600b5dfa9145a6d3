package cli

import (
	"strings"
	"testing"
)

// badServeFlag is a value of one of serve's bounded flags, from the
// command line or the environment, and what the refusal must say.
type badServeFlag struct {
	env  map[string]string
	args []string
	want string
}

// refusesBeforeOpening checks that serve refuses each bad value before it
// opens anything: the master key is not even created.
func refusesBeforeOpening(t *testing.T, cases []badServeFlag) {
	t.Helper()
	t.Parallel()
	for _, c := range cases {
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

func TestServeRequestTimeoutFlag(t *testing.T) {
	refusesBeforeOpening(t, []badServeFlag{
		{nil, []string{"--request-timeout", "0s"}, "--request-timeout must be between 1s and 50s"},
		{nil, []string{"--request-timeout", "500ms"}, "--request-timeout must be between 1s and 50s"},
		{nil, []string{"--request-timeout", "2m"}, "--request-timeout must be between 1s and 50s"},
		{nil, []string{"--request-timeout", "soon"}, "request-timeout"},
		{map[string]string{"USERCENTER_REQUEST_TIMEOUT": "0s"}, nil, "--request-timeout must be between 1s and 50s"},
		{map[string]string{"USERCENTER_REQUEST_TIMEOUT": "soon"}, nil, "USERCENTER_REQUEST_TIMEOUT"},
	})
}

// Less than 25 hours would purge events that webhooks may still retry.
func TestServeEventsRetentionFlag(t *testing.T) {
	refusesBeforeOpening(t, []badServeFlag{
		{nil, []string{"--events-retention", "24h"}, "--events-retention must be between 25h0m0s and 87840h0m0s: webhooks retry a delivery for 24 hours"},
		{nil, []string{"--events-retention", "0s"}, "--events-retention must be between 25h0m0s"},
		{nil, []string{"--events-retention", "-72h"}, "--events-retention must be between 25h0m0s"},
		{nil, []string{"--events-retention", "100000h"}, "--events-retention must be between 25h0m0s"},
		{nil, []string{"--events-retention", "a week"}, "events-retention"},
		{map[string]string{"USERCENTER_EVENTS_RETENTION": "1h"}, nil, "--events-retention must be between 25h0m0s"},
	})
}

func TestServeBodyMemoryFlag(t *testing.T) {
	refusesBeforeOpening(t, []badServeFlag{
		{nil, []string{"--body-memory-mib", "15"}, "--body-memory-mib must be between 16 and 65536"},
		{nil, []string{"--body-memory-mib", "0"}, "--body-memory-mib must be between 16 and 65536"},
		{nil, []string{"--body-memory-mib", "65537"}, "--body-memory-mib must be between 16 and 65536"},
		{nil, []string{"--body-memory-mib", "64MiB"}, "body-memory-mib"},
		{map[string]string{"USERCENTER_BODY_MEMORY_MIB": "1"}, nil, "--body-memory-mib must be between 16 and 65536"},
	})
}

func TestServeCacheTTLFlag(t *testing.T) {
	refusesBeforeOpening(t, []badServeFlag{
		{nil, []string{"--cache-ttl", "500ms"}, "--cache-ttl must be between 1s and 24h0m0s"},
		{nil, []string{"--cache-ttl", "-5m"}, "--cache-ttl must be between 1s and 24h0m0s"},
		{nil, []string{"--cache-ttl", "25h"}, "--cache-ttl must be between 1s and 24h0m0s"},
		{nil, []string{"--cache-ttl", "long"}, "cache-ttl"},
		{map[string]string{"USERCENTER_CACHE_TTL": "0s"}, nil, "--cache-ttl must be between 1s and 24h0m0s"},
		{nil, []string{"--cache-mib", "8"}, "--cache-mib must be between 16 and 65536"},
		{nil, []string{"--cache-mib", "65537"}, "--cache-mib must be between 16 and 65536"},
		{map[string]string{"USERCENTER_CACHE_MIB": "0"}, nil, "--cache-mib must be between 16 and 65536"},
	})
}
