package cli

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Version is set at build time with -ldflags "-X usercenter/cli.Version=…".
// Without it the version is the module's, as go build stamps it.
var Version = ""

// buildInfo is what `usercenter version` reports: enough to tell which
// source a binary was built from, and with what.
type buildInfo struct {
	Version    string `json:"Version"`
	Revision   string `json:"Revision"`             // "" when built without version control information
	CommitTime string `json:"CommitTime,omitempty"` // of Revision, RFC 3339
	// Modified says the tree had changes not in Revision; nil when unknown.
	Modified  *bool  `json:"Modified"`
	GoVersion string `json:"GoVersion"`
	Platform  string `json:"Platform"`
}

// readBuildInfo reads what the Go toolchain stamped into the binary.
func readBuildInfo(bi *debug.BuildInfo, ok bool) buildInfo {
	out := buildInfo{Version: "(devel)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if ok {
		if bi.Main.Version != "" {
			out.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			out.GoVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				out.Revision = s.Value
			case "vcs.time":
				out.CommitTime = s.Value
			case "vcs.modified":
				m := s.Value == "true"
				out.Modified = &m
			}
		}
	}
	if Version != "" {
		out.Version = Version
	}
	return out
}

// version is the version alone, for logs and reports.
func version() string { return readBuildInfo(debug.ReadBuildInfo()).Version }

func versionCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs := newFlagSet("version", stdout)
	asJSON := fs.Bool("json", false, "print one JSON object")
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{msg: fmt.Sprintf("version takes no arguments (got %q)", pos[0])}
	}
	info := readBuildInfo(debug.ReadBuildInfo())
	return writeResult(stdout, *asJSON, info, func() error {
		return printBuildInfo(stdout, info)
	})
}

func printBuildInfo(w io.Writer, info buildInfo) error {
	revision, modified := "unknown: built without version control information", "unknown"
	if info.Revision != "" {
		revision = info.Revision
		if info.CommitTime != "" {
			revision += " (committed " + info.CommitTime + ")"
		}
	}
	if info.Modified != nil {
		modified = "no"
		if *info.Modified {
			modified = "yes: built from a tree with changes not in the revision"
		}
	}
	fmt.Fprintf(w, "usercenter %s\n", info.Version)
	tw := newTable(w)
	fmt.Fprintf(tw, "  revision\t%s\n", revision)
	fmt.Fprintf(tw, "  modified\t%s\n", modified)
	fmt.Fprintf(tw, "  go\t%s\n", info.GoVersion)
	fmt.Fprintf(tw, "  platform\t%s\n", info.Platform)
	return tw.Flush()
}
