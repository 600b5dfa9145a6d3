package cli

import (
	"strconv"
	"strings"
	"testing"
)

// scim token create shows the token once; list never shows it; revoke
// marks it revoked; bad command lines are usage errors.
func TestSCIMTokenCommands(t *testing.T) {
	t.Parallel()
	env := dataEnv(t.TempDir())
	a := createApp(t, env, "shop")
	id := strconv.FormatUint(a.SdkAppId, 10)

	var tok scimTokenJSON
	decodeOne(t, mustRun(t, env, "scim", "token", "create", "--app", id, "--perms", "users.write,pii.read", "--json").stdout, &tok)
	if !strings.HasPrefix(tok.ID, "scim") || len(tok.Token) != 35 || tok.SdkAppID != a.SdkAppId ||
		strings.Join(tok.Permissions, ",") != "users.read,users.write,pii.read" {
		t.Fatalf("scim token create: %+v", tok)
	}
	human := mustRun(t, env, "scim", "token", "create", "--app", id).stdout
	if !strings.Contains(human, "shown only now") || !strings.Contains(human, "/scim/v2/"+id+"/") {
		t.Errorf("scim token create:\n%s", human)
	}

	for _, args := range [][]string{{"scim", "token", "list", "--app", id, "--json"}, {"scim", "token", "list", "--app", id}} {
		out := mustRun(t, env, args...).stdout
		if strings.Contains(out, tok.Token) || !strings.Contains(out, tok.ID) {
			t.Errorf("%v shows the token or not its ID:\n%s", args, out)
		}
	}
	mustRun(t, env, "scim", "token", "revoke", tok.ID)
	var list []scimTokenJSON
	decodeOne(t, mustRun(t, env, "scim", "token", "list", "--app", id, "--json").stdout, &list)
	if len(list) != 2 || list[0].ID != tok.ID || list[0].RevokedAt == "" || list[1].RevokedAt != "" {
		t.Errorf("scim token list after a revoke: %+v", list)
	}

	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"scim", "token", "create"}, 2},
		{[]string{"scim", "token", "create", "--app", id, "--perms", "users.fly"}, 2},
		{[]string{"scim", "token", "create", "--app", "999999"}, 1},
		{[]string{"scim", "token", "revoke"}, 2},
		{[]string{"scim", "token", "revoke", "scimNone"}, 1},
		{[]string{"scim", "token"}, 2},
	} {
		if r := runCLI(t, env, c.args...); r.code != c.code || r.stderr == "" {
			t.Errorf("%v: %s, want exit %d", c.args, r, c.code)
		}
	}
	if r := mustRun(t, env, "help", "scim", "token", "create"); !strings.Contains(r.stdout, "--perms") {
		t.Errorf("help scim token create:\n%s", r.stdout)
	}
}
