package sqlstore

import (
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

func TestAppArgs(t *testing.T) {
	app := &core.AppRecord{
		App: usercenter.App{
			SdkAppID: 1<<63 + 5, TokenTTL: 90 * time.Minute, CodeTTL: 1500 * time.Millisecond, CreatedAt: time.Unix(1, 2),
		},
		SealedSuperAppSecret: []byte("s"),
	}
	vals, err := AppArgs("sqlite", app, true)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(AppColumns, ",") + 1; len(vals) != n {
		t.Fatalf("%d values for %d AppColumns", len(vals), n)
	}
	col := func(name string) any { return valueOf(t, AppColumns, vals, name) }
	for name, want := range map[string]any{
		"sdk_app_id":        int64(-1<<63 + 5),
		"token_ttl_seconds": int64(5400),
		"code_ttl_seconds":  int64(1), // whole seconds
		"created_at":        int64(1e9 + 2),
	} {
		if got := col(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	// An update leaves created_at alone, so a zero one does not fail it.
	app.CreatedAt = time.Time{}
	if _, err := AppArgs("sqlite", app, false); err != nil {
		t.Errorf("update with a zero CreatedAt: %v", err)
	}
	if _, err := AppArgs("sqlite", app, true); usercenter.ErrorCode(err) != usercenter.EInternal {
		t.Errorf("insert with a zero CreatedAt: %v, want EInternal", err)
	}
	app.SealedSuperAppSecret = nil
	if _, err := AppArgs("postgres", app, false); usercenter.ErrorCode(err) != usercenter.EInternal {
		t.Errorf("empty secret: %v, want EInternal", err)
	}
}
