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
		switch {
		case ue.showUsage:
			fmt.Fprintf(stderr, "usercenter: %v\n\n", err)
			printGlobalHelp(stderr)
		case ue.cmd != "":
			fmt.Fprintf(stderr, "usercenter: %v (see usercenter %s --help)\n", err, ue.cmd)
		default:
			fmt.Fprintf(stderr, "usercenter: %v (see usercenter help)\n", err)
		}
		return 2
	}
	fmt.Fprintf(stderr, "usercenter: %v\n", err)
	return 1
}

// usageError is a mistake in the command line: it is told in one line,
// with the command whose help explains it. showUsage asks for the whole
// help instead, for a command line with no command at all.
type usageError struct {
	msg       string
	cmd       string
	showUsage bool
}

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	if len(args) == 0 {
		return usageError{msg: "a command is required", showUsage: true}
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		return helpCmd(rest, stdout)
	case "--version", "-version":
		name = "version"
	}
	if g := findGroup(name); g != nil {
		if len(rest) == 0 {
			return usageError{msg: fmt.Sprintf("%s needs a subcommand: %s", name, strings.Join(g.subcommands(), ", ")), cmd: name}
		}
		if isHelpFlag(rest[0]) {
			printGroupHelp(stdout, g)
			return nil
		}
		name, rest = name+" "+rest[0], rest[1:]
		// Some commands have a third word (scim token create).
		for findCommand(name) == nil && hasSubcommands(name) && len(rest) > 0 && !isHelpFlag(rest[0]) {
			name, rest = name+" "+rest[0], rest[1:]
		}
	}
	spec := findCommand(name)
	if spec == nil {
		return unknownCommand(name)
	}
	err := spec.run(ctx, rest, stdout, stderr, getenv)
	var ue usageError
	if errors.As(err, &ue) && ue.cmd == "" && !ue.showUsage {
		ue.cmd = spec.path
		return ue
	}
	return err
}

type command func(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error

func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// newFlagSet builds the flag set of the command at path. Call parse after
// defining the flags: it applies the USERCENTER_* environment variables of
// the flags in envFlags, then the arguments, and on -h or --help writes
// the command's help to stdout.
func newFlagSet(path string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	// parse tells what went wrong in one line of its own.
	fs.SetOutput(io.Discard)
	fs.Usage = func() { printCommandHelp(stdout, path, fs) }
	return fs
}

// newStoreFlagSet is newFlagSet for a command that opens the store: the
// store's flags are registered on it, and parse fills them in. What
// opening the store creates is told on stderr.
func newStoreFlagSet(path string, stdout, stderr io.Writer) (*flag.FlagSet, *storeFlags) {
	fs := newFlagSet(path, stdout)
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
	"superapp-app": true, "enterprise-token-ttl": true, "events-retention": true,
	"redis": true, "request-timeout": true, "body-memory-mib": true, "cache-ttl": true, "cache-mib": true,
	"url": true, "console": true,
	"webhooks": true, "webhook-timeout": true, "webhook-allow-private": true,
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
	// The flag package calls Usage on every error too; the help is only
	// for -h and --help.
	help := fs.Usage
	fs.Usage = func() {}
	defer func() { fs.Usage = help }()
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				help()
				return nil, err
			}
			return nil, flagError(fs, err)
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
		return errors.New(e.Describe(fields))
	}
	return err
}

// fields spells every domain field as the command line names it: as its
// flag where a command takes one, as the JSON member of a user (import
// lines, --json output) otherwise.
var fields = usercenter.Spelling{
	usercenter.FieldUserID: "USERID", usercenter.FieldSdkAppID: "--app", usercenter.FieldOriginID: "originId", usercenter.FieldExternalID: "externalId", usercenter.FieldFullName: "fullName",
	usercenter.FieldStatus: "status", usercenter.FieldNickname: "nickname", usercenter.FieldAvatar: "avatar",
	usercenter.FieldPhone: "phone", usercenter.FieldEmail: "email", usercenter.FieldAddress: "address",
	usercenter.FieldCity: "city", usercenter.FieldProvince: "province", usercenter.FieldNationality: "nationality",
	usercenter.FieldLang: "lang", usercenter.FieldTimezone: "timezone", usercenter.FieldSex: "sex",
	usercenter.FieldSignature: "signature", usercenter.FieldRemark: "remark", usercenter.FieldLogonMode: "logonMode",
	usercenter.FieldThirdParty: "thirdPartyIds",
	usercenter.FieldAppName:    "--name", usercenter.FieldAppStatus: "--status", usercenter.FieldUserDomain: "--user-domain",
	usercenter.FieldRateLimit: "--rate-limit", usercenter.FieldTokenTTL: "--token-ttl", usercenter.FieldPhoneRegion: "--phone-region",
	usercenter.FieldSuperAppSecretKey: "--superapp-secret", usercenter.FieldSuperAppCipher: "--superapp-cipher",
	usercenter.FieldCodeTTL: "--code-ttl", usercenter.FieldKeyName: "the key's --name", usercenter.FieldKeyApps: "--apps",
	usercenter.FieldPermissions: "--perms", usercenter.FieldSecretID: "SECRETID",
	usercenter.FieldUsers: "the batch", usercenter.FieldPage: "the page", usercenter.FieldPageSize: "--limit",
	usercenter.FieldCursor: "the cursor", usercenter.FieldCreatedSince: "--created-since", usercenter.FieldCreatedUntil: "--created-until",
	usercenter.FieldSince: "--since", usercenter.FieldUntil: "--until", usercenter.FieldProvider: "--provider",
	usercenter.FieldProviderUserID: "--provider-user-id", usercenter.FieldUsername: "username", usercenter.FieldPassword: "password",
	usercenter.FieldTimestamp: "timestamp", usercenter.FieldCode: "code", usercenter.FieldValueKind: "type",
	usercenter.FieldToken: "token", usercenter.FieldAuditAction: "--action", usercenter.FieldRole: "--role", usercenter.FieldReason: "--reason",
	usercenter.FieldWebhookID: "WEBHOOKID", usercenter.FieldWebhookURL: "--url", usercenter.FieldWebhookEvents: "--events",
}
