package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"usercenter/core"
)

// commandSpec is one command of the command line: what runs it and what
// its help says.
type commandSpec struct {
	path    string // "serve", "app create"
	args    string // its positional arguments and required flags, for the usage line
	summary string // one line, for the list of commands
	long    string // more, for its own help; may be empty
	run     command
}

// groupSpec is a word that only groups subcommands: app, key, user…
type groupSpec struct {
	name    string
	summary string
}

var groups = []groupSpec{
	{"app", "manage apps: their settings, first API key and SuperApp secret"},
	{"key", "manage API keys"},
	{"user", "read, change, delete and import users"},
	{"master-key", "rotate the master key"},
	{"events", "follow the events of every change"},
	{"admin", "manage the web console's accounts"},
	{"webhook", "manage webhook endpoints: where an app's events are posted"},
	{"scim", "manage the SCIM tokens identity providers provision users with"},
}

// commands lists every command in the order help shows them. It is filled
// in init, since the commands' own help refers to it.
var commands []commandSpec

func init() {
	commands = []commandSpec{
		{"serve", "", "runs the server, setting up a new instance on first start", "", serve},
		{"migrate", "", "applies pending database migrations, setting up a new instance if there is none", "", migrate},
		{"app create", "--name NAME", "creates an app with its first API key and its SuperApp secret", "", appCreate},
		{"app list", "", "lists the apps", "", appList},
		{"app show", "SDKAPPID", "shows an app's settings; --show-secret adds its SuperApp secret", "", appShow},
		{"app update", "SDKAPPID --SETTING VALUE…", "changes an app's settings", "", appUpdate},
		{"key create", "--app SDKAPPID[,SDKAPPID…]", "creates an API key for one or more apps", "", keyCreate},
		{"key list", "", "lists the API keys, without their secrets", "", keyList},
		{"key revoke", "SECRETID", "revokes an API key (servers refuse it within half a second)", "", keyRevoke},
		{"scim token create", "--app SDKAPPID [--perms users.write,pii.read]", "creates a SCIM bearer token for an app, shown once", scimTokenLong, scimTokenCreate},
		{"scim token list", "--app SDKAPPID", "lists an app's SCIM tokens, without the tokens", "", scimTokenList},
		{"scim token revoke", "TOKENID", "revokes a SCIM token at once", "", scimTokenRevoke},
		{"user get", "USERID", "shows a user, personal data masked unless --reveal names it", revealLong, userGet},
		{"user find", "--app SDKAPPID (--origin-id ID | --phone P | --email E | --provider P --provider-user-id ID)", "finds an app's users by an exact value", revealLong, userFind},
		{"user list", "--app SDKAPPID [--status active|disabled] [--since T] [--limit N | --all]", "lists an app's users, newest first", "", userList},
		{"user export", "--app SDKAPPID [--format jsonl|csv] [--reveal FIELDS --reason TEXT] [-o FILE]", "exports an app's users, personal data masked unless revealed", userExportLong, userExport},
		{"user export-subject", "USERID [-o FILE]", "exports everything held about one user, personal data in plain (audited)", "", userExportSubject},
		{"user erase", "USERID --yes", "erases a user: deletes them and unlinks their audit events from them", userEraseLong, userErase},
		{"user set", "USERID FIELD=VALUE…", "changes a user's profile fields", userSetLong, userSet},
		{"user delete", "USERID", "deletes a user with their tokens and links; their audit events stay", "", userDelete},
		{"user revoke-tokens", "USERID", "ends every login token of a user at once; they must log in again", "", userRevokeTokens},
		{"user import", "FILE --app SDKAPPID", "creates the users of a JSON Lines or CSV file", userImportLong, userImport},
		{"audit", "", "lists audit events, newest first", "", auditCmd},
		{"events tail", "", "prints the events written from now on, one a line, until interrupted", eventsTailLong, eventsTail},
		{"admin create", "--email EMAIL [--role admin|support|viewer] [--apps SDKAPPID,…]", "creates a console account and prints its one-time sign-in link", adminCreateLong, adminCreate},
		{"admin list", "", "lists the console accounts", "", adminList},
		{"admin link", "EMAIL", "prints a new one-time link that sets a console account's password", "", adminLink},
		{"admin disable", "EMAIL", "disables a console account and ends its sessions", "", adminChange("admin disable", "disabled; its sessions have ended", core.ConsoleAccountChange{Disable: true})},
		{"admin enable", "EMAIL", "enables a disabled console account", "", adminChange("admin enable", "enabled", core.ConsoleAccountChange{Enable: true})},
		{"admin reset-2fa", "EMAIL", "removes a console account's TOTP second factor and recovery codes", "", adminChange("admin reset-2fa", "two-factor removed; the password alone signs in until it enrols again", core.ConsoleAccountChange{ResetTwoFactor: true})},
		{"admin unlock", "EMAIL", "lifts a console account's lockout after failed sign-ins", "", adminChange("admin unlock", "unlocked", core.ConsoleAccountChange{Unlock: true})},
		{"webhook create", "--app SDKAPPID --url URL --events TYPES", "creates a webhook endpoint and shows its secret, once", webhookLong, webhookCreate},
		{"webhook list", "[--app SDKAPPID]", "lists webhook endpoints and how delivery to each stands", "", webhookList},
		{"webhook show", "WEBHOOKID", "shows an endpoint and its latest deliveries", "", webhookShow},
		{"webhook update", "WEBHOOKID [--url URL] [--events TYPES]", "changes an endpoint's URL or filters, and clears its failure flag", webhookLong, webhookUpdate},
		{"webhook delete", "WEBHOOKID", "deletes an endpoint and its delivery log", "", webhookDelete},
		{"webhook test", "WEBHOOKID", "sends a webhook.test event to an endpoint now", "", webhookTest},
		{"webhook replay", "WEBHOOKID --since T", "redelivers an endpoint's events from time T on", "", webhookReplay},
		{"master-key rotate", "", "re-encrypts everything under a new master key", rotateHelp, masterKeyRotate},
		{"migrate-data", "--from sqlite:PATH --to postgres://USER:PASSWORD@HOST:PORT/DB", "copies an instance from SQLite into PostgreSQL", migrateDataHelp, migrateData},
		{"bench", "(--self | --target URL --creds FILE)", "load-tests an instance, or one in this process, and reports throughput and latency", "", benchCmd},
		{"healthcheck", "", "exits 0 if a server answers /healthz, for container health checks", healthcheckLong, healthcheckCmd},
		{"completion", "bash|zsh|fish", "prints a shell completion script", completionLong, completionCmd},
		{"version", "", "prints the version, the revision it was built from, and the Go version", "", versionCmd},
	}
}

const revealLong = `Personal data (phone, email, address) is masked unless --reveal names
it, and every reveal is recorded in the audit log with the actor
"cli:<OS user>", the user who ran the command.
`

const userExportLong = `Streams the app's users, oldest first, 1,000 a read, as JSON Lines (one
user object of user get --json a line) or CSV with the header
UserId,SdkAppId,UserDomain,OriginId,Status,Nickname,Avatar,Phone,Email,
Address,City,Province,Nationality,Lang,Timezone,Sex,Signature,Remark,
LogonMode,CreatedAt,UpdatedAt,LastLoginAt, then ThirdPartyIds.PROVIDER for
every provider. Personal data is masked unless --reveal names it; then
--reason is required, and every exported user's revealed field is one
audit event, written in the transaction that read it, that records the
reason (on one line, at most 500 bytes).
On a terminal a progress line goes to standard error.
`

const userEraseLong = `For a data-subject erasure request: in one transaction the user is
deleted with their tokens, links and codes, and every audit event about
them keeps its time, app, action, field and actor but names the user
"erased" instead, as does every event of the outbox about them (see
usercenter events tail); one more audit event, also naming "erased",
records the erasure.
`

const userSetLong = `Fields: nickname, avatar, phone, email, address, city, province,
nationality, lang, timezone, sex, signature, remark, originId, status
(0|1), logonMode and thirdPartyIds.PROVIDER. An empty value clears a field
or unlinks a provider.
`

const userImportLong = `Reads users from FILE (- for standard input): JSON Lines, one user object
a line as POST /v1/apps/{sdkAppId}/users takes it, or CSV (--format csv,
or a name ending in .csv) whose header names the members of that object:
originId, nickname, avatar, phone, email, address, city, province,
nationality, lang, timezone, sex, signature, remark, status (0|1),
logonMode, and thirdPartyIds.PROVIDER for each provider linked, in any
order; an empty cell leaves the member out.

Users are created 1,000 a transaction, with the audit events of the API.
A line whose originId a user of the app already has fails, unless
--on-conflict skip (it is skipped and counted: rerunning a failed import
with skip resumes it) or --on-conflict update (the user is patched with
the line, one update event per changed field). A bad line is reported
with its line number and field, and stops the import unless --max-errors
lets it go on; the lines before it stay created. A summary ends the run;
it exits 1 if any line failed. On a terminal a progress line (lines, rate,
failures, time left) goes to standard error.
`

func findGroup(name string) *groupSpec {
	for i := range groups {
		if groups[i].name == name {
			return &groups[i]
		}
	}
	return nil
}

// hasSubcommands reports whether some command's path goes on after path,
// as "scim token create" goes on after "scim token".
func hasSubcommands(path string) bool {
	for _, c := range commands {
		if strings.HasPrefix(c.path, path+" ") {
			return true
		}
	}
	return false
}

func findCommand(path string) *commandSpec {
	for i := range commands {
		if commands[i].path == path {
			return &commands[i]
		}
	}
	return nil
}

// subcommands lists the words that may follow the group.
func (g *groupSpec) subcommands() []string {
	var subs []string
	for _, c := range commands {
		if sub, ok := strings.CutPrefix(c.path, g.name+" "); ok {
			subs = append(subs, sub)
		}
	}
	return subs
}

// topLevel lists the words that may start a command line.
func topLevel() []string {
	var names []string
	for _, c := range commands {
		first, _, _ := strings.Cut(c.path, " ")
		if !slices.Contains(names, first) {
			names = append(names, first)
		}
	}
	return append(names, "help")
}

// unknownCommand tells that path is no command, with the nearest one.
func unknownCommand(path string) error {
	if group, sub, ok := strings.Cut(path, " "); ok {
		subs := findGroup(group).subcommands()
		if near := nearest(sub, subs); near != "" {
			return usageError{msg: fmt.Sprintf("unknown command %q; did you mean %q?", path, group+" "+near), cmd: group}
		}
		return usageError{msg: fmt.Sprintf("unknown command %q; %s has %s", path, group, strings.Join(subs, ", ")), cmd: group}
	}
	if near := nearest(path, topLevel()); near != "" {
		return usageError{msg: fmt.Sprintf("unknown command %q; did you mean %q?", path, near)}
	}
	// A subcommand typed without its group.
	var candidates []string
	for _, c := range commands {
		if strings.HasSuffix(c.path, " "+path) {
			candidates = append(candidates, fmt.Sprintf("%q", c.path))
		}
	}
	if len(candidates) > 0 {
		return usageError{msg: fmt.Sprintf("unknown command %q; did you mean %s?", path, strings.Join(candidates, " or "))}
	}
	return usageError{msg: fmt.Sprintf("unknown command %q", path)}
}

// nearest returns the candidate closest to word by edit distance, if it is
// close enough to be what was meant, or "".
func nearest(word string, candidates []string) string {
	best, bestDist := "", 0
	for _, c := range candidates {
		d := editDistance(word, c)
		if best == "" || d < bestDist {
			best, bestDist = c, d
		}
	}
	// A typo changes a character or two; more, in a short word, is
	// another word.
	if best == "" || bestDist > max(1, min(len(word), len(best))/3) {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// how many characters to insert, delete or change, or pairs of neighbours
// to swap, to make one the other.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// flagError tells in one line what was wrong with the flags, naming them
// with two dashes as the help does, and the nearest flag to an unknown one.
func flagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		name = strings.TrimLeft(name, "-")
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		msg = fmt.Sprintf("unknown flag --%s for %s", name, fs.Name())
		if near := nearest(name, names); near != "" {
			msg += fmt.Sprintf("; did you mean --%s?", near)
		}
	} else {
		msg = singleDash.ReplaceAllString(msg, "$1--$2")
	}
	return usageError{msg: msg, cmd: fs.Name()}
}

// singleDash finds the flag names in the flag package's messages.
var singleDash = regexp.MustCompile(`(^|[ :])-([a-z][a-z0-9-]*)`)

func helpCmd(args []string, stdout io.Writer) error {
	if len(args) == 0 || isHelpFlag(args[0]) {
		printGlobalHelp(stdout)
		return nil
	}
	path := args[0]
	if g := findGroup(path); g != nil {
		if len(args) == 1 {
			printGroupHelp(stdout, g)
			return nil
		}
		path += " " + args[1]
		args = args[1:]
		for findCommand(path) == nil && hasSubcommands(path) && len(args) > 1 {
			path += " " + args[1]
			args = args[1:]
		}
	}
	if len(args) > 1 {
		return usageError{msg: fmt.Sprintf("help takes one command, not %q", strings.Join(args, " ")), cmd: "help"}
	}
	if path == "help" {
		printGlobalHelp(stdout)
		return nil
	}
	spec := findCommand(path)
	if spec == nil {
		return unknownCommand(path)
	}
	// The command's own flag set writes its help: run it with --help.
	err := spec.run(context.Background(), []string{"--help"}, stdout, io.Discard, func(string) string { return "" })
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func printGlobalHelp(w io.Writer) {
	fmt.Fprint(w, `usercenter: a self-hosted user identity and profile service

Usage: usercenter COMMAND [ARGUMENTS] [FLAGS]

Commands:
`)
	tw := newTable(w)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.path, c.summary)
	}
	fmt.Fprintf(tw, "  help [COMMAND]\tshows a command's arguments and flags\n")
	tw.Flush()
	fmt.Fprint(w, `
Run 'usercenter COMMAND --help' (or 'usercenter help COMMAND') for a
command's arguments and flags.

--db is sqlite:PATH (or a plain PATH; the default is DATA/usercenter.db) or
postgres://USER:PASSWORD@HOST:PORT/DB. Several servers may share one
PostgreSQL database; give them all the same master key file, and --redis
to share rate limits and replay protection (see docs/deployment.md).

Only serve, migrate and app create set up a new instance (the data
directory, the master key and the database); every other command works on
an existing one, and the commands that only read open it read-only.

Where the instance lives and how the server runs can also be set through
the environment: USERCENTER_DATA, USERCENTER_DB, USERCENTER_MASTER_KEY_FILE,
USERCENTER_DB_MAX_CONNS, USERCENTER_DB_CONNECT_TIMEOUT, USERCENTER_REDIS,
USERCENTER_ADDR, USERCENTER_LOG_LEVEL, USERCENTER_SUPERAPP_APP,
USERCENTER_ENTERPRISE_TOKEN_TTL and USERCENTER_REQUEST_TIMEOUT. Flags win
over the environment. The settings of apps and users come only from flags.
With no flags, everything lives in ./data.
`)
}

func printGroupHelp(w io.Writer, g *groupSpec) {
	fmt.Fprintf(w, "Usage: usercenter %s SUBCOMMAND [ARGUMENTS] [FLAGS]\n\n%s.\n\nSubcommands:\n", g.name, capitalize(g.summary))
	tw := newTable(w)
	for _, c := range commands {
		if strings.HasPrefix(c.path, g.name+" ") {
			fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace(c.path+" "+c.args), c.summary)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRun 'usercenter %s SUBCOMMAND --help' for its arguments and flags.\n", g.name)
}

// printCommandHelp writes the help of the command at path: its usage
// line, what it does, and its flags.
func printCommandHelp(w io.Writer, path string, fs *flag.FlagSet) {
	if c, ok := w.(*flagCollector); ok {
		c.collect(fs)
		return
	}
	spec := findCommand(path)
	if spec == nil { // a flag set of no listed command: its flags alone
		printFlags(w, fs)
		return
	}
	fmt.Fprintf(w, "Usage: usercenter %s [FLAGS]\n\n%s.\n", strings.TrimSpace(spec.path+" "+spec.args), capitalize(spec.summary))
	if spec.long != "" {
		fmt.Fprintf(w, "\n%s", spec.long)
	}
	fmt.Fprintln(w, "\nFlags:")
	printFlags(w, fs)
}

// printFlags lists the flags as flag.PrintDefaults does, but with two
// dashes, as they are written everywhere else.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
		if def := f.DefValue; def != "" && def != "0" && def != "false" && def != "0s" {
			if g, ok := f.Value.(flag.Getter); ok {
				if _, isString := g.Get().(string); isString {
					def = fmt.Sprintf("%q", def)
				}
			}
			fmt.Fprintf(w, " (default %s)", def)
		}
		fmt.Fprintln(w)
	})
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// flagCollector, given to a command as its stdout with --help, receives
// its flag set instead of its help: how completion learns every flag.
type flagCollector struct {
	io.Writer
	names []string
}

func (c *flagCollector) collect(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) { c.names = append(c.names, f.Name) })
}

// commandFlags lists the flags of the command at path.
func commandFlags(spec *commandSpec) []string {
	c := &flagCollector{Writer: io.Discard}
	spec.run(context.Background(), []string{"--help"}, c, io.Discard, func(string) string { return "" })
	return c.names
}
