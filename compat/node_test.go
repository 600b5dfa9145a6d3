// Package compat drives usercenter with the official Tencent Cloud SDKs
// of other languages, as their users would configure them.
package compat

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"usercenter/uctest"
)

// TestNodeSDK runs compat/node/lcic.test.mjs (the official Node.js SDKs,
// tencentcloud-sdk-nodejs-common and tencentcloud-sdk-nodejs-intl-en)
// against a live instance. It needs `npm ci` in compat/node first; CI does
// that and sets CI=true, which turns a missing install into a failure.
func TestNodeSDK(t *testing.T) {
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "tencentcloud-sdk-nodejs-common")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the Node.js SDKs are not installed: run `npm ci` in %s", dir)
		}
		t.Skipf("the Node.js SDKs are not installed: run `npm ci` in %s to include this test", dir)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is not on PATH")
		}
		t.Skip("node is not on PATH")
	}
	// The suite sends bursts of one action; give its app room so that
	// the test is about compatibility, not throttling.
	env := uctest.New(t, uctest.Options{RateLimit: 10000})
	cmd := exec.Command(node, "--test", "--test-concurrency=1", "lcic.test.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"USERCENTER_ENDPOINT="+env.Host,
		"USERCENTER_SECRET_ID="+env.Key.SecretID,
		"USERCENTER_SECRET_KEY="+env.Key.SecretKey,
		"USERCENTER_SDK_APP_ID="+strconv.FormatUint(env.App.SdkAppID, 10),
	)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("node --test lcic.test.mjs (%s):\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("the Node.js SDK suite failed: %v", err)
	}
}
