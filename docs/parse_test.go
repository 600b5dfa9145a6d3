package docs

import (
	"fmt"
	"regexp"
	"strings"
)

// runner is what runs a fenced code block, chosen by its info string.
type runner int

const (
	notRunnable runner = iota // output, configuration, pseudo-requests
	shellRunner               // sh, bash, shell: sourced into the file's one bash session
	goRunner                  // go: run with go run, or type-checked when it has no main
	nodeRunner                // js, mjs, javascript: an ES module run with node
)

func runnerOf(lang string) runner {
	switch lang {
	case "sh", "bash", "shell":
		return shellRunner
	case "go":
		return goRunner
	case "js", "mjs", "javascript":
		return nodeRunner
	}
	return notRunnable
}

// block is one fenced code block of a Markdown file, with the directives
// (HTML comments) attached to it.
type block struct {
	file     string
	line     int    // of the opening fence, from 1
	lang     string // the info string's first word, lower case
	body     string // the lines inside the fence, less the fence's indentation
	notRun   string // the reason of a <!-- not run: … --> before it
	prelude  string // code of a <!-- prelude … --> before it, run first
	epilogue string // code of an <!-- epilogue … --> after it, run last
}

func (b block) runner() runner { return runnerOf(b.lang) }

// runs reports whether the runner runs the block.
func (b block) runs() bool { return b.runner() != notRunnable && b.notRun == "" }

// where names the block's opening fence as file:line.
func (b block) where() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

// code is what runs: the prelude, the block and the epilogue.
func (b block) code() string {
	var s strings.Builder
	for _, part := range []string{b.prelude, b.body, b.epilogue} {
		if part != "" {
			s.WriteString(part)
			s.WriteString("\n")
		}
	}
	return s.String()
}

var (
	fenceRE   = regexp.MustCompile("^( *)(`{3,}|~{3,})(.*)$")
	notRunRE  = regexp.MustCompile(`^not[ -]?run\b`)
	reasonRE  = regexp.MustCompile(`^not run:\s*(\S.*)$`)
	keywordRE = regexp.MustCompile(`^(prelude|epilogue)\b`)
)

// parse returns the fenced code blocks of a Markdown file, and the
// directives that are malformed or attached to nothing, as
// "file:line: problem". Directives are HTML comments, invisible in the
// rendered page:
//
//	<!-- not run: REASON -->   the next block is not run; the reason is required
//	<!-- prelude               code run before the next block, in its language
//	…
//	-->
//	<!-- epilogue              code run after the previous block
//	…
//	-->
//
// Only blank lines may stand between a directive and its block.
func parse(file, text string) (blocks []block, problems []string) {
	lines := strings.Split(text, "\n")
	problem := func(line int, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s:%d: %s", file, line, fmt.Sprintf(format, args...)))
	}
	type pending struct {
		notRun      string
		hasNotRun   bool
		prelude     string
		hasPrelude  bool
		preludeLine int
		notRunLine  int
	}
	var (
		next      pending
		lastBlock = -1 // index of the block an epilogue may attach to; -1 when none may
	)
	dangling := func(line int) {
		if next.hasNotRun {
			problem(next.notRunLine, "<!-- not run --> is not followed by a code block (only blank lines may come between)")
		}
		if next.hasPrelude {
			problem(next.preludeLine, "<!-- prelude --> is not followed by a code block (only blank lines may come between)")
		}
		next = pending{}
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			continue
		case strings.HasPrefix(trimmed, "<!--"):
			start := i
			comment := strings.TrimPrefix(trimmed, "<!--")
			for !strings.Contains(comment, "-->") && i+1 < len(lines) {
				i++
				comment += "\n" + lines[i]
			}
			end := strings.Index(comment, "-->")
			if end < 0 {
				problem(start+1, "unterminated HTML comment")
				return blocks, problems
			}
			comment = comment[:end]
			head := strings.TrimSpace(comment)
			switch {
			case notRunRE.MatchString(head):
				m := reasonRE.FindStringSubmatch(strings.Join(strings.Fields(head), " "))
				if m == nil {
					problem(start+1, "%q: write it as <!-- not run: REASON --> with the reason why", "<!--"+comment+"-->")
					m = []string{"", "(no reason given)"}
				}
				next.hasNotRun, next.notRun, next.notRunLine = true, m[1], start+1
				lastBlock = -1
			case keywordRE.MatchString(head):
				word := keywordRE.FindString(head)
				code := strings.TrimPrefix(strings.TrimLeft(comment, " \t"), word)
				code = strings.TrimPrefix(strings.TrimLeft(code, " \t"), "\n")
				code = strings.TrimRight(code, " \t\n")
				if word == "prelude" {
					next.hasPrelude, next.prelude, next.preludeLine = true, code, start+1
					lastBlock = -1
					continue
				}
				if lastBlock < 0 {
					problem(start+1, "<!-- epilogue --> does not follow a code block (only blank lines may come between)")
					continue
				}
				if blocks[lastBlock].epilogue != "" {
					problem(start+1, "a second <!-- epilogue --> for the block at line %d", blocks[lastBlock].line)
				}
				blocks[lastBlock].epilogue = code
			default:
				// Any other comment is the writer's own; it breaks no attachment.
			}
		case fenceRE.MatchString(line):
			m := fenceRE.FindStringSubmatch(line)
			indent, fence, info := len(m[1]), m[2], strings.TrimSpace(m[3])
			b := block{file: file, line: i + 1}
			if f := strings.Fields(info); len(f) > 0 {
				b.lang = strings.ToLower(f[0])
			}
			var body []string
			closed := false
			for i++; i < len(lines); i++ {
				l := lines[i]
				if c := strings.TrimSpace(l); strings.HasPrefix(c, fence[:1]) && strings.Trim(c, fence[:1]) == "" && len(c) >= len(fence) {
					closed = true
					break
				}
				// Remove up to the fence's indentation, as CommonMark does.
				n := 0
				for n < indent && n < len(l) && l[n] == ' ' {
					n++
				}
				body = append(body, l[n:])
			}
			if !closed {
				problem(b.line, "code block is not closed")
			}
			b.body = strings.Join(body, "\n")
			if next.hasNotRun {
				b.notRun = next.notRun
			}
			if next.hasPrelude {
				b.prelude = next.prelude
			}
			if next.hasPrelude && !b.runs() {
				problem(next.preludeLine, "<!-- prelude --> before a block that is not run")
			}
			next = pending{}
			blocks = append(blocks, b)
			lastBlock = len(blocks) - 1
		default:
			dangling(i + 1)
			lastBlock = -1
		}
	}
	dangling(len(lines))
	for _, b := range blocks {
		if b.epilogue != "" && !b.runs() {
			problems = append(problems, fmt.Sprintf("%s: <!-- epilogue --> after a block that is not run", b.where()))
		}
	}
	return blocks, problems
}

// systemCommands are the commands that change the machine rather than the
// test's server and files: a block that runs one must be opted out, since
// the test (as root, in CI) would really run it.
var systemCommands = []string{
	"sudo", "su", "runuser", "doas",
	"useradd", "userdel", "usermod", "groupadd", "groupdel", "passwd", "chpasswd",
	"systemctl", "service", "crontab", "shutdown", "reboot", "mount", "umount",
	"apt", "apt-get", "dpkg", "yum", "dnf", "rpm", "snap", "brew",
	"docker", "podman", "kubectl",
	"psql", "createdb", "dropdb", "createuser", "pg_ctl", "pg_ctlcluster", "redis-cli",
	"install", "chown", "chgrp",
}

var (
	// A command word where a command starts: a line's start, or after
	// ; & | ( or $( and optional spaces, or after a variable assignment.
	systemCommandRE = regexp.MustCompile(`(?m)(?:^|[;&|(]|\$\()\s*(?:\w+=\S*\s+)*(` + strings.Join(quoteAll(systemCommands), "|") + `)(?:\s|$)`)
	// A write under the system's own directories: a redirection or tee
	// into one, or a file command naming one.
	systemWriteRE = regexp.MustCompile(`(?m)(?:>>?|\btee(?:\s+-a)?)\s*/(?:etc|usr|var|opt|boot|srv|root|home|bin|sbin|lib)\b|\b(?:cp|mv|rm|rmdir|mkdir|ln|chmod|touch)\b[^\n;&|]*\s/(?:etc|usr|var|opt|boot|srv|root|home|bin|sbin|lib)\b`)
)

func quoteAll(words []string) []string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = regexp.QuoteMeta(w)
	}
	return q
}

// systemChanges names what in a runnable shell block would change the
// machine: its system commands and writes under system directories.
func systemChanges(b block) []string {
	if !b.runs() || b.runner() != shellRunner {
		return nil
	}
	var found []string
	for _, m := range systemCommandRE.FindAllStringSubmatch(b.code(), -1) {
		found = append(found, m[1])
	}
	for _, m := range systemWriteRE.FindAllString(b.code(), -1) {
		found = append(found, strings.TrimSpace(m))
	}
	return found
}
