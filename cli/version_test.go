package cli

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Path: "usercenter", Version: "v1.2.3-0.20240501120000-0123456789ab+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2024-05-01T12:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	info := readBuildInfo(bi, true)
	if info.Version != bi.Main.Version || info.Revision != "0123456789abcdef" || info.CommitTime != "2024-05-01T12:00:00Z" ||
		info.Modified == nil || !*info.Modified || info.GoVersion != "go1.99.1" {
		t.Fatalf("readBuildInfo = %+v", info)
	}
	var b strings.Builder
	if err := printBuildInfo(&b, info); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"usercenter v1.2.3-0.20240501120000-0123456789ab+dirty\n", "revision  0123456789abcdef (committed 2024-05-01T12:00:00Z)\n", "modified  yes", "go        go1.99.1\n", "platform  "} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("version output lacks %q:\n%s", want, b.String())
		}
	}

	// A binary built without version control information says so.
	info = readBuildInfo(&debug.BuildInfo{GoVersion: "go1.99.1"}, true)
	b.Reset()
	printBuildInfo(&b, info)
	if info.Version != "(devel)" || !strings.Contains(b.String(), "revision  unknown") || !strings.Contains(b.String(), "modified  unknown") {
		t.Errorf("without VCS information: %+v\n%s", info, b.String())
	}

	// -ldflags -X usercenter/cli.Version wins.
	Version = "v9.9.9"
	defer func() { Version = "" }()
	if got := readBuildInfo(bi, true).Version; got != "v9.9.9" {
		t.Errorf("with cli.Version set, Version = %q", got)
	}
}
