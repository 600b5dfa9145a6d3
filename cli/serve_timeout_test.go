package cli

import (
	"strings"
	"testing"
)

// --request-timeout is checked before anything is opened, from the flag or
// from USERCENTER_REQUEST_TIMEOUT.
func TestServeRequestTimeoutFlag(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--request-timeout", "0s"}, "--request-timeout must be between 1s and 50s"},
		{nil, []string{"--request-timeout", "500ms"}, "--request-timeout must be between 1s and 50s"},
		{nil, []string{"--request-timeout", "2m"}, "--request-timeout must be between 1s and 50s"},
		{nil, []string{"--request-timeout", "soon"}, "request-timeout"},
		{map[string]string{"USERCENTER_REQUEST_TIMEOUT": "0s"}, nil, "--request-timeout must be between 1s and 50s"},
		{map[string]string{"USERCENTER_REQUEST_TIMEOUT": "soon"}, nil, "USERCENTER_REQUEST_TIMEOUT"},
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

// --events-retention is checked before anything is opened: less than
// 25 hours would purge events that webhooks may still retry.
func TestServeEventsRetentionFlag(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--events-retention", "24h"}, "--events-retention must be between 25h0m0s and 87840h0m0s: webhooks retry a delivery for 24 hours"},
		{nil, []string{"--events-retention", "0s"}, "--events-retention must be between 25h0m0s"},
		{nil, []string{"--events-retention", "-72h"}, "--events-retention must be between 25h0m0s"},
		{nil, []string{"--events-retention", "100000h"}, "--events-retention must be between 25h0m0s"},
		{nil, []string{"--events-retention", "a week"}, "events-retention"},
		{map[string]string{"USERCENTER_EVENTS_RETENTION": "1h"}, nil, "--events-retention must be between 25h0m0s"},
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
