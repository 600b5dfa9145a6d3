package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestAppUpdate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	a := createApp(t, env, "shop")
	id := strconv.FormatUint(a.SdkAppId, 10)

	// New apps show the super-app defaults.
	r := mustRun(t, env, "app", "show", id, "--json")
	var show map[string]any
	decodeOne(t, r.stdout, &show)
	if show["SuperAppCipher"] != "aes-ecb-hex" || show["CodeTTLSeconds"].(json.Number).String() != "300" {
		t.Fatalf("app show --json: %s", r.stdout)
	}
	r = mustRun(t, env, "app", "show", id)
	if !strings.Contains(r.stdout, "aes-ecb-hex") || !strings.Contains(r.stdout, "5m0s") {
		t.Fatalf("app show: %s", r.stdout)
	}
	r = mustRun(t, env, "app", "list")
	if !strings.Contains(r.stdout, "CIPHER") || !strings.Contains(r.stdout, "aes-ecb-hex") {
		t.Fatalf("app list: %s", r.stdout)
	}

	key := "0123456789abcdefghijklmn"
	r = mustRun(t, env, "app", "update", id, "--superapp-secret-key", key, "--superapp-cipher", "aes-gcm-base64", "--code-ttl", "2m",
		"--rate-limit", "9", "--token-ttl", "1h", "--phone-region", "us", "--name", "shop two", "--status", "disabled", "--json")
	var upd map[string]any
	decodeOne(t, r.stdout, &upd)
	if upd["SuperAppCipher"] != "aes-gcm-base64" || upd["CodeTTLSeconds"].(json.Number).String() != "120" ||
		upd["RateLimit"].(json.Number).String() != "9" || upd["TokenTTLSeconds"].(json.Number).String() != "3600" ||
		upd["PhoneRegion"] != "US" || upd["Name"] != "shop two" || upd["Status"] != "disabled" {
		t.Fatalf("app update --json: %s", r.stdout)
	}
	if strings.Contains(r.stdout, key) {
		t.Fatalf("app update prints the secret: %s", r.stdout)
	}
	r = mustRun(t, env, "app", "show", id, "--show-secret", "--json")
	decodeOne(t, r.stdout, &show)
	if show["SuperAppSecretKey"] != key || show["Status"] != "disabled" {
		t.Fatalf("after update: %s", r.stdout)
	}

	// The key can come from a file, out of the process list; other
	// settings stay. An exported variable named after the flag must not
	// leak into the update: app settings never come from the environment.
	keyFile := filepath.Join(dir, "superapp.key")
	if err := os.WriteFile(keyFile, []byte("fedcba9876543210\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env2 := dataEnv(dir)
	env2["USERCENTER_SUPERAPP_SECRET_KEY"] = "0000000000000000"
	env2["USERCENTER_NAME"] = "from the environment"
	r = mustRun(t, env2, "app", "update", id, "--status", "active", "--superapp-secret-key-file", keyFile)
	if !strings.Contains(r.stdout, "replaced") || strings.Contains(r.stdout, "fedcba9876543210") {
		t.Fatalf("app update: %s", r.stdout)
	}
	r = mustRun(t, env, "app", "show", id, "--show-secret", "--json")
	decodeOne(t, r.stdout, &show)
	if show["SuperAppSecretKey"] != "fedcba9876543210" || show["Status"] != "active" || show["SuperAppCipher"] != "aes-gcm-base64" || show["Name"] != "shop two" {
		t.Fatalf("after the second update: %s", r.stdout)
	}

	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"app", "update", id}, 2, "at least one setting"},
		{[]string{"app", "update"}, 2, "one SdkAppId"},
		{[]string{"app", "update", "abc", "--name", "x"}, 2, "not an SdkAppId"},
		{[]string{"app", "update", id, "--superapp-cipher", "des"}, 2, "aes-ecb-hex"},
		{[]string{"app", "update", id, "--status", "paused"}, 2, "active or disabled"},
		{[]string{"app", "update", id, "--phone-region", "QQ"}, 2, "ISO 3166"},
		{[]string{"app", "update", id, "--code-ttl", "soon"}, 2, "code-ttl"},
		{[]string{"app", "update", id, "--superapp-secret-key", "tooshort"}, 1, "16, 24 or 32"},
		{[]string{"app", "update", id, "--code-ttl", "2h"}, 1, "--code-ttl must be between"},
		{[]string{"app", "update", "999999", "--name", "x"}, 1, "not found"},
	} {
		r := runCLI(t, env, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
			t.Errorf("%v: %s; want exit %d with %q", c.args, r, c.code, c.msg)
		}
	}
	r = mustRun(t, env, "app", "show", id, "--show-secret", "--json")
	decodeOne(t, r.stdout, &show)
	if show["SuperAppSecretKey"] != "fedcba9876543210" {
		t.Fatalf("a refused update changed the key: %s", r.stdout)
	}
}

func TestServeSuperAppFlag(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	createApp(t, dataEnv(dir), "one")
	r := runCLI(t, nil, "serve", "--data", dir, "--addr", "127.0.0.1:0", "--superapp-app", "12345")
	if r.code != 1 || !strings.Contains(r.stderr, "--superapp-app 12345") {
		t.Fatalf("serve with an unknown --superapp-app: %s", r)
	}
	r = runCLI(t, map[string]string{"USERCENTER_SUPERAPP_APP": "777"}, "serve", "--data", dir, "--addr", "127.0.0.1:0")
	if r.code != 1 || !strings.Contains(r.stderr, "--superapp-app 777") {
		t.Fatalf("serve with an unknown USERCENTER_SUPERAPP_APP: %s", r)
	}
	r = runCLI(t, nil, "serve", "--data", dir, "--superapp-app", "x")
	if r.code != 2 {
		t.Fatalf("serve --superapp-app x: %s", r)
	}
}
