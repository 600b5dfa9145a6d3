package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"usercenter"
	"usercenter/core"
)

// appJSON is the machine-readable form of an app. Scripts depend on the
// field names of `app create --json`.
type appJSON struct {
	SdkAppId        uint64 `json:"SdkAppId"`
	Name            string `json:"Name"`
	UserDomain      string `json:"UserDomain"`
	Status          string `json:"Status"`
	RateLimit       int    `json:"RateLimit"`
	TokenTTLSeconds int64  `json:"TokenTTLSeconds"`
	PhoneRegion     string `json:"PhoneRegion"`
	SuperAppCipher  string `json:"SuperAppCipher"`
	CodeTTLSeconds  int64  `json:"CodeTTLSeconds"`
	CreatedAt       string `json:"CreatedAt"`
	// Users is the app's number of users, in app list and app show.
	Users             *int   `json:"Users,omitempty"`
	SecretId          string `json:"SecretId,omitempty"`
	SecretKey         string `json:"SecretKey,omitempty"`
	SuperAppSecretKey string `json:"SuperAppSecretKey,omitempty"`
}

func toAppJSON(a *usercenter.App) appJSON {
	status := "active"
	if a.Status != usercenter.AppActive {
		status = "disabled"
	}
	return appJSON{
		SdkAppId: a.SdkAppID, Name: a.Name, UserDomain: a.UserDomain, Status: status,
		RateLimit: a.RateLimit, TokenTTLSeconds: int64(a.TokenTTL / time.Second), PhoneRegion: a.PhoneRegion,
		SuperAppCipher: string(a.SuperAppCipher), CodeTTLSeconds: int64(a.CodeTTL / time.Second), CreatedAt: a.CreatedAt.Format(time.RFC3339),
	}
}

type keyJSON struct {
	SecretId    string   `json:"SecretId"`
	SecretKey   string   `json:"SecretKey,omitempty"`
	Name        string   `json:"Name"`
	Apps        []uint64 `json:"Apps"`
	Permissions []string `json:"Permissions"`
	CreatedAt   string   `json:"CreatedAt"`
	RevokedAt   string   `json:"RevokedAt,omitempty"`
}

func toKeyJSON(k *usercenter.APIKey) keyJSON {
	out := keyJSON{SecretId: k.SecretID, SecretKey: k.SecretKey, Name: k.Name, Apps: k.Apps, CreatedAt: k.CreatedAt.Format(time.RFC3339)}
	for _, p := range k.Permissions {
		out.Permissions = append(out.Permissions, string(p))
	}
	if k.Revoked() {
		out.RevokedAt = k.RevokedAt.Format(time.RFC3339)
	}
	return out
}

// phoneRegionFlag checks and normalises the value of --phone-region.
func phoneRegionFlag(s string) (string, error) {
	region := strings.ToUpper(strings.TrimSpace(s))
	if !phonenumbers.GetSupportedRegions()[region] {
		return "", usageError{msg: fmt.Sprintf("--phone-region %q is not a region with phone numbers: use a two-letter ISO 3166 code such as CN, US or GB", s)}
	}
	return region, nil
}

// sdkAppIDArg reads the one positional argument of cmd, an SdkAppId.
func sdkAppIDArg(cmd string, pos []string) (uint64, error) {
	if len(pos) != 1 {
		return 0, usageError{msg: cmd + " needs one SdkAppId"}
	}
	id, err := strconv.ParseUint(pos[0], 10, 64)
	if err != nil {
		return 0, usageError{msg: fmt.Sprintf("%q is not an SdkAppId", pos[0])}
	}
	return id, nil
}

func appCreate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("app create", stdout, stderr)
	name := fs.String("name", "", "app name (required)")
	sdkAppID := fs.Uint64("sdk-app-id", 0, "SdkAppId to use (default: a free random one)")
	userDomain := fs.String("user-domain", "", "user domain (default: derived from the name)")
	rateLimit := fs.Int("rate-limit", usercenter.DefaultRateLimit, "requests per second allowed per action")
	tokenTTL := fs.Duration("token-ttl", usercenter.DefaultTokenTTL, "login token lifetime")
	phoneRegion := fs.String("phone-region", usercenter.DefaultPhoneRegion, "ISO 3166 region of phone numbers given without a country code")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if _, err := parse(fs, args, getenv); err != nil {
		return err
	}
	if *name == "" {
		return usageError{msg: "app create needs --name"}
	}
	region, err := phoneRegionFlag(*phoneRegion)
	if err != nil {
		return err
	}
	return sf.withInstance(ctx, create, func(inst *instance) error {
		app, key, err := inst.svc.CreateApp(ctx, operator(), core.NewApp{SdkAppID: *sdkAppID, Name: *name, UserDomain: *userDomain, RateLimit: *rateLimit, TokenTTL: *tokenTTL, PhoneRegion: region})
		if err != nil {
			if e := usercenter.ErrorOf(err); e.Field == usercenter.FieldUserDomain && *userDomain == "" {
				if e.Code == usercenter.EConflict {
					return fmt.Errorf("the user domain derived from the name %q is taken by another app: choose one with --user-domain", *name)
				}
				return fmt.Errorf("%s: choose one with --user-domain", e.Message)
			} else if e.Code == usercenter.EConflict && e.Field == usercenter.FieldUserDomain {
				return fmt.Errorf("the user domain %q is taken by another app", *userDomain)
			}
			return errMessage(err)
		}
		out := toAppJSON(app)
		out.SecretId, out.SecretKey, out.SuperAppSecretKey = key.SecretID, key.SecretKey, app.SuperAppSecretKey
		return writeResult(stdout, *asJSON, out, func() error {
			fmt.Fprintf(stdout, "Created app %q.\n\n  SdkAppId           %d\n  UserDomain         %s\n  SecretId           %s\n  SecretKey          %s\n  SuperAppSecretKey  %s\n\nThe SecretKey is shown only now: store it safely.\n",
				app.Name, app.SdkAppID, app.UserDomain, key.SecretID, key.SecretKey, app.SuperAppSecretKey)
			return nil
		})
	})
}

func appList(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("app list", stdout, stderr)
	asJSON := fs.Bool("json", false, "print one JSON array")
	if _, err := parse(fs, args, getenv); err != nil {
		return err
	}
	return sf.withInstance(ctx, readOnly, func(inst *instance) error {
		apps, err := inst.svc.Apps(ctx)
		if err != nil {
			return err
		}
		out := jsonList(apps, toAppJSON)
		for i := range out {
			n, err := inst.svc.UserCount(ctx, operator(), out[i].SdkAppId)
			if err != nil {
				return errMessage(err)
			}
			out[i].Users = &n
		}
		return writeResult(stdout, *asJSON, out, func() error {
			tw := newTable(stdout)
			fmt.Fprintln(tw, "SDKAPPID\tNAME\tUSERDOMAIN\tSTATUS\tUSERS\tRATELIMIT\tTOKENTTL\tPHONEREGION\tCIPHER\tCODETTL")
			for i, a := range apps {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d/s\t%s\t%s\t%s\t%s\n", a.SdkAppID, a.Name, a.UserDomain, out[i].Status, *out[i].Users, a.RateLimit, a.TokenTTL, a.PhoneRegion, a.SuperAppCipher, a.CodeTTL)
			}
			return tw.Flush()
		})
	})
}

func appShow(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("app show", stdout, stderr)
	asJSON := fs.Bool("json", false, "print one JSON object")
	showSecret := fs.Bool("show-secret", false, "include the SuperAppSecretKey")
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	id, err := sdkAppIDArg("app show", pos)
	if err != nil {
		return err
	}
	return sf.withInstance(ctx, readOnly, func(inst *instance) error {
		app, err := inst.svc.App(ctx, operator(), id)
		if err != nil {
			return errMessage(err)
		}
		out := toAppJSON(app)
		users, err := inst.svc.UserCount(ctx, operator(), id)
		if err != nil {
			return errMessage(err)
		}
		out.Users = &users
		var secret string
		if *showSecret {
			if secret, err = inst.svc.RevealSuperAppSecret(ctx, operator(), id); err != nil {
				return errMessage(err)
			}
			out.SuperAppSecretKey = secret
		}
		return writeResult(stdout, *asJSON, out, func() error {
			printApp(stdout, app)
			fmt.Fprintf(stdout, "Users           %d\n", users)
			if *showSecret {
				fmt.Fprintf(stdout, "SuperAppSecretKey  %s\n", secret)
			}
			return nil
		})
	})
}

// printApp writes an app's settings for a person, without its secret.
func printApp(w io.Writer, app *usercenter.App) {
	fmt.Fprintf(w, "SdkAppId        %d\nName            %s\nUserDomain      %s\nStatus          %s\nRateLimit       %d requests/s per action\nTokenTTL        %s\nPhoneRegion     %s\nSuperAppCipher  %s\nCodeTTL         %s\nCreatedAt       %s\n",
		app.SdkAppID, app.Name, app.UserDomain, toAppJSON(app).Status, app.RateLimit, app.TokenTTL, app.PhoneRegion, app.SuperAppCipher, app.CodeTTL, toAppJSON(app).CreatedAt)
}

// optional is a flag that remembers whether it was given, on the command
// line or through its environment variable.
type optional[T any] struct {
	value T
	set   bool
	parse func(string) (T, error)
	show  func(T) string
}

func (o *optional[T]) Set(s string) error {
	v, err := o.parse(s)
	if err != nil {
		return err
	}
	o.value, o.set = v, true
	return nil
}

func (o *optional[T]) String() string {
	if o == nil || o.show == nil || !o.set {
		return ""
	}
	return o.show(o.value)
}

// ptr returns a pointer to the flag's value when it was given.
func (o *optional[T]) ptr() *T {
	if !o.set {
		return nil
	}
	return &o.value
}

func optString() *optional[string] {
	return &optional[string]{parse: func(s string) (string, error) { return s, nil }, show: func(s string) string { return s }}
}

func optInt() *optional[int] {
	return &optional[int]{parse: strconv.Atoi, show: strconv.Itoa}
}

func optDuration() *optional[time.Duration] {
	return &optional[time.Duration]{parse: time.ParseDuration, show: time.Duration.String}
}

func appUpdate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("app update", stdout, stderr)
	secret, cipher, name, status, region := optString(), optString(), optString(), optString(), optString()
	rateLimit := optInt()
	codeTTL, tokenTTL := optDuration(), optDuration()
	fs.Var(secret, "superapp-secret-key", "the SuperApp secret key: 16, 24 or 32 characters, the console's backend service key")
	secretFile := fs.String("superapp-secret-key-file", "", "read the SuperApp secret key from this file (/dev/stdin works), keeping it out of the process list")
	fs.Var(cipher, "superapp-cipher", "how phone numbers and emails are encrypted for the platform: aes-ecb-hex, aes-cbc-base64 or aes-gcm-base64")
	fs.Var(codeTTL, "code-ttl", "lifetime of super-app temporary codes, 30s to 1h")
	fs.Var(rateLimit, "rate-limit", "requests per second allowed per action")
	fs.Var(tokenTTL, "token-ttl", "login token lifetime")
	fs.Var(region, "phone-region", "ISO 3166 region of phone numbers given without a country code")
	fs.Var(name, "name", "app name")
	fs.Var(status, "status", "active or disabled")
	asJSON := fs.Bool("json", false, "print one JSON object")
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	id, err := sdkAppIDArg("app update", pos)
	if err != nil {
		return err
	}
	if *secretFile != "" {
		if secret.set {
			return usageError{msg: "give --superapp-secret-key or --superapp-secret-key-file, not both"}
		}
		b, err := os.ReadFile(*secretFile)
		if err != nil {
			return fmt.Errorf("reading the SuperApp secret key: %w", err)
		}
		secret.set, secret.value = true, strings.TrimSpace(string(b))
	}
	p := core.AppPatch{
		Name: name.ptr(), RateLimit: rateLimit.ptr(), TokenTTL: tokenTTL.ptr(),
		SuperAppSecretKey: secret.ptr(), CodeTTL: codeTTL.ptr(),
	}
	if cipher.set {
		c := usercenter.SuperAppCipher(cipher.value)
		if !c.Valid() {
			return usageError{msg: fmt.Sprintf("--superapp-cipher %q: use aes-ecb-hex, aes-cbc-base64 or aes-gcm-base64", cipher.value)}
		}
		p.SuperAppCipher = &c
	}
	if status.set {
		var st usercenter.AppStatus
		switch status.value {
		case "active":
			st = usercenter.AppActive
		case "disabled":
			st = usercenter.AppDisabled
		default:
			return usageError{msg: fmt.Sprintf("--status %q: use active or disabled", status.value)}
		}
		p.Status = &st
	}
	if region.set {
		r, err := phoneRegionFlag(region.value)
		if err != nil {
			return err
		}
		p.PhoneRegion = &r
	}
	if p == (core.AppPatch{}) {
		return usageError{msg: "app update needs at least one setting to change"}
	}
	return sf.withInstance(ctx, readWrite, func(inst *instance) error {
		app, err := inst.svc.UpdateApp(ctx, operator(), id, p)
		if err != nil {
			return errMessage(err)
		}
		return writeResult(stdout, *asJSON, toAppJSON(app), func() error {
			fmt.Fprintf(stdout, "Updated app %d.\n\n", app.SdkAppID)
			printApp(stdout, app)
			if secret.set {
				fmt.Fprintf(stdout, "\nThe SuperApp secret key was replaced: the platform must now sign with the new key.\n")
			}
			return nil
		})
	})
}

func keyCreate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("key create", stdout, stderr)
	appsFlag := fs.String("app", "", "comma-separated SdkAppIds the key may act on (required)")
	permsFlag := fs.String("perms", "users.read,users.write", "comma-separated permissions: users.read, users.write, pii.read")
	name := fs.String("name", "", "a name to recognise the key by")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if _, err := parse(fs, args, getenv); err != nil {
		return err
	}
	var apps []uint64
	for _, s := range strings.Split(*appsFlag, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		id, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return usageError{msg: fmt.Sprintf("--app: %q is not an SdkAppId", s)}
		}
		apps = append(apps, id)
	}
	if len(apps) == 0 {
		return usageError{msg: "key create needs --app"}
	}
	perms, err := usercenter.ParsePermissions(*permsFlag)
	if err != nil {
		return usageError{msg: errMessage(err).Error()}
	}
	return sf.withInstance(ctx, readWrite, func(inst *instance) error {
		key, err := inst.svc.CreateKey(ctx, operator(), *name, apps, perms)
		if e := usercenter.ErrorOf(err); err != nil && e.Code == usercenter.ENotFound && e.Resource == usercenter.ResourceApp {
			return fmt.Errorf("not every app of --app %s exists (see usercenter app list)", *appsFlag)
		}
		if err != nil {
			return errMessage(err)
		}
		return writeResult(stdout, *asJSON, toKeyJSON(key), func() error {
			fmt.Fprintf(stdout, "Created key %q for apps %v with %v.\n\n  SecretId   %s\n  SecretKey  %s\n\nThe SecretKey is shown only now: store it safely.\n",
				key.Name, key.Apps, key.Permissions, key.SecretID, key.SecretKey)
			return nil
		})
	})
}

func keyList(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("key list", stdout, stderr)
	asJSON := fs.Bool("json", false, "print one JSON array")
	if _, err := parse(fs, args, getenv); err != nil {
		return err
	}
	return sf.withInstance(ctx, readOnly, func(inst *instance) error {
		keys, err := inst.svc.Keys(ctx)
		if err != nil {
			return err
		}
		out := jsonList(keys, toKeyJSON)
		return writeResult(stdout, *asJSON, out, func() error {
			tw := newTable(stdout)
			fmt.Fprintln(tw, "SECRETID\tNAME\tAPPS\tPERMISSIONS\tSTATUS")
			for _, k := range out {
				status := "live"
				if k.RevokedAt != "" {
					status = "revoked " + k.RevokedAt
				}
				fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", k.SecretId, k.Name, k.Apps, strings.Join(k.Permissions, ","), status)
			}
			return tw.Flush()
		})
	})
}

func keyRevoke(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, sf := newStoreFlagSet("key revoke", stdout, stderr)
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{msg: "key revoke needs one SecretId"}
	}
	return sf.withInstance(ctx, readWrite, func(inst *instance) error {
		if err := inst.svc.RevokeKey(ctx, operator(), pos[0]); err != nil {
			return errMessage(err)
		}
		fmt.Fprintf(stdout, "Revoked %s: requests signed with it now fail.\n", pos[0])
		return nil
	})
}
