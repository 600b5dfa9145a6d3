// Package cli is usercenter's command line: it parses flags and
// environment, wires the store, vault and service together, and runs the
// server or an operator command.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"usercenter"
)

const usage = `usercenter: a self-hosted user identity and profile service

Usage:
  usercenter serve   [--addr 127.0.0.1:8080] [--db DSN] [--data DIR] [--master-key-file FILE] [--redis URL]
                     [--superapp-app SDKAPPID] [--enterprise-token-ttl 2h] [--request-timeout 10s] [--log-level info]
                     [--db-max-conns N] [--db-connect-timeout 5s]
  usercenter migrate [--db DSN]
  usercenter app create --name NAME [--sdk-app-id N] [--user-domain D] [--rate-limit N] [--token-ttl 168h] [--phone-region CN] [--json]
  usercenter app list [--json]
  usercenter app show SDKAPPID [--show-secret] [--json]
  usercenter app update SDKAPPID [--superapp-secret-key K | --superapp-secret-key-file F] [--superapp-cipher C] [--code-ttl 5m] [--rate-limit N]
                        [--token-ttl D] [--phone-region R] [--name N] [--status active|disabled] [--json]
  usercenter key create --app SDKAPPID[,SDKAPPID…] [--perms users.read,users.write,pii.read] [--name NAME] [--json]
  usercenter key list [--json]
  usercenter key revoke SECRETID
  usercenter user get USERID [--reveal phone,email,address] [--json]
  usercenter user find --app SDKAPPID (--origin-id ID | --phone P | --email E | --provider P --provider-user-id ID) [--reveal …] [--json]
  usercenter user set USERID FIELD=VALUE… [--json]
  usercenter user delete USERID
  usercenter user import FILE.jsonl --app SDKAPPID [--json]
  usercenter audit [--app ID] [--user ID] [--field F] [--action A] [--actor A] [--since T] [--until T] [--limit N | --all] [--json]
  usercenter master-key rotate [--json]
  usercenter migrate-data --from sqlite:PATH --to postgres://… [--master-key-file FILE] [--batch 5000] [--json]
  usercenter bench (--self [--db DSN] | --target URL --creds FILE) [--connections 32] [--duration 10s] [--users 10000] [--json FILE]
  usercenter version

--db is sqlite:PATH (or a plain PATH; the default is DATA/usercenter.db) or
postgres://USER:PASSWORD@HOST:PORT/DB. Several servers may share one
PostgreSQL database; give them all the same master key file, and --redis
to share rate limits and replay protection (see docs/deployment.md).

user set fields: nickname, avatar, phone, email, address, city, province,
nationality, lang, timezone, sex, signature, remark, originId, status (0|1),
logonMode and thirdPartyIds.PROVIDER; an empty value clears a field or
unlinks a provider. Personal data is masked unless --reveal names it, and
every reveal is recorded in the audit log with the actor "operator".

user import reads one user object a line (JSON Lines; - for standard
input), each as POST /v1/apps/{sdkAppId}/users takes it, and creates them
1,000 a transaction, with the audit events of the API; it stops at the
first batch with a bad line, names the line, and says how many users the
batches before it created.

master-key rotate re-encrypts everything under a new master key. It
refuses to run while a server uses the database (on PostgreSQL: any
server on any machine): stop the servers first and start them again
afterwards.

Where the instance lives and how the server runs can also be set through
the environment: USERCENTER_DATA, USERCENTER_DB, USERCENTER_MASTER_KEY_FILE,
USERCENTER_DB_MAX_CONNS, USERCENTER_DB_CONNECT_TIMEOUT, USERCENTER_REDIS,
USERCENTER_ADDR, USERCENTER_LOG_LEVEL, USERCENTER_SUPERAPP_APP,
USERCENTER_ENTERPRISE_TOKEN_TTL and USERCENTER_REQUEST_TIMEOUT. Flags win
over the environment. The
settings of apps and users come only from flags.
With no flags, everything lives in ./data.
`

// env reads one environment variable.
type env func(string) string

// Main runs the command line and returns the process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	err := run(context.Background(), args, stdout, stderr, getenv)
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		if ue.showUsage {
			fmt.Fprintf(stderr, "usercenter: %v\n\n%s", err, usage)
		} else {
			// The flag package has already listed the command's flags when
			// they were at fault; one line and a pointer is enough here.
			fmt.Fprintf(stderr, "usercenter: %v\nRun 'usercenter help' for every command, or add -h to a command for its flags.\n", err)
		}
		return 2
	}
	fmt.Fprintf(stderr, "usercenter: %v\n", err)
	return 1
}

// usageError is a mistake in the command line. showUsage asks for the
// whole usage text, for when the command itself is unknown.
type usageError struct {
	msg       string
	showUsage bool
}

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	if len(args) == 0 {
		return usageError{msg: "a command is required", showUsage: true}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, stdout, stderr, getenv)
	case "migrate":
		return migrate(ctx, rest, stdout, stderr, getenv)
	case "app", "key", "user", "master-key":
		if len(rest) == 0 {
			return usageError{msg: cmd + " needs a subcommand", showUsage: true}
		}
		sub, ok := subcommands[cmd+" "+rest[0]]
		if !ok {
			return usageError{msg: fmt.Sprintf("unknown command %q", cmd+" "+rest[0]), showUsage: true}
		}
		return sub(ctx, rest[1:], stdout, stderr, getenv)
	case "audit":
		return auditCmd(ctx, rest, stdout, stderr, getenv)
	case "bench":
		return benchCmd(ctx, rest, stdout, stderr, getenv)
	case "migrate-data":
		return migrateData(ctx, rest, stdout, stderr, getenv)
	case "version", "--version":
		return versionCmd(ctx, rest, stdout, stderr, getenv)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError{msg: fmt.Sprintf("unknown command %q", cmd), showUsage: true}
}

type command func(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error

var subcommands map[string]command

func init() {
	subcommands = map[string]command{
		"app create": appCreate,
		"app list":   appList,
		"app show":   appShow,
		"app update": appUpdate,
		"key create": keyCreate,
		"key list":   keyList,
		"key revoke": keyRevoke,

		"user get":    userGet,
		"user find":   userFind,
		"user set":    userSet,
		"user delete": userDelete,
		"user import": userImport,

		"master-key rotate": masterKeyRotate,
	}
}

// newFlagSet builds a flag set that reports its errors to stderr. Call
// parse after defining the flags: it applies the USERCENTER_* environment
// variables of the flags in envFlags, then the arguments.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// newStoreFlagSet is newFlagSet for a command that opens the store: the
// store's flags are registered on it, and parse fills them in.
func newStoreFlagSet(name string, stderr io.Writer) (*flag.FlagSet, *storeFlags) {
	fs := newFlagSet(name, stderr)
	sf := &storeFlags{notices: stderr}
	sf.register(fs)
	return fs, sf
}

// writeResult writes a command's result: v as one indented JSON document
// when asJSON is set, for scripts, and otherwise whatever human writes, for
// a person.
func writeResult(w io.Writer, asJSON bool, v any, human func() error) error {
	if asJSON {
		return writeJSON(w, v)
	}
	return human()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jsonList converts every element of xs to its machine-readable form. The
// result is never nil, so an empty list prints as [] and not as null.
func jsonList[T, J any](xs []T, toJSON func(*T) J) []J {
	out := make([]J, len(xs))
	for i := range xs {
		out[i] = toJSON(&xs[i])
	}
	return out
}

// newTable starts a table for a person to read: columns separated by tabs
// in what is written to it, aligned when it is flushed.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

// envFlags are the flags that USERCENTER_* variables may set: where the
// instance lives and how the server runs. Settings of one app or one user
// never come from the environment, where an exported variable would
// silently apply to every app the next command touches.
var envFlags = map[string]bool{
	"addr": true, "data": true, "db": true, "master-key-file": true, "log-level": true,
	"db-max-conns": true, "db-connect-timeout": true,
	"superapp-app": true, "enterprise-token-ttl": true,
	"redis": true, "request-timeout": true,
}

// parse applies the environment, then the arguments, accepting flags
// before and after positional arguments.
func parse(fs *flag.FlagSet, args []string, getenv env) ([]string, error) {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if !envFlags[f.Name] {
			return
		}
		name := "USERCENTER_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s: %w", name, err)
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{msg: err.Error()}
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// errMessage renders a domain error for an operator.
func errMessage(err error) error {
	var e *usercenter.Error
	if errors.As(err, &e) && e.Code != usercenter.EInternal {
		return errors.New(e.Message)
	}
	return err
}
