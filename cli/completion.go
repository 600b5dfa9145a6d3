package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
)

const completionLong = `Prints a script that completes commands, subcommands and flags in the
shell. Load it in the current shell with

  bash:  source <(usercenter completion bash)
  zsh:   source <(usercenter completion zsh)
  fish:  usercenter completion fish | source

or for every new shell, add that line to ~/.bashrc or ~/.zshrc, or write
the script to /etc/bash_completion.d/usercenter or
~/.config/fish/completions/usercenter.fish.
`

func completionCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs := newFlagSet("completion", stdout)
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{msg: "completion needs the shell: bash, zsh or fish"}
	}
	switch pos[0] {
	case "bash":
		_, err = io.WriteString(stdout, "# bash completion for usercenter: source <(usercenter completion bash)\n"+bashCompletion())
	case "zsh":
		// zsh runs the bash function through its bash compatibility layer.
		_, err = io.WriteString(stdout, "# zsh completion for usercenter: source <(usercenter completion zsh)\n"+
			"autoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n"+bashCompletion())
	case "fish":
		_, err = io.WriteString(stdout, fishCompletion())
	default:
		return usageError{msg: fmt.Sprintf("completion: unknown shell %q: use bash, zsh or fish", pos[0])}
	}
	return err
}

// bashCompletion is a bash function that completes the command line from
// the command table: the first words name the command, a word starting
// with - is one of its flags, and anything else is left to bash's file
// name completion (-o default).
func bashCompletion() string {
	var groupNames []string
	for _, g := range groups {
		groupNames = append(groupNames, g.name)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `_usercenter() {
    local cur=${COMP_WORDS[COMP_CWORD]} path="" w i words=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case $w in -*) continue ;; esac
        if [[ -z $path ]]; then
            path=$w
        elif [[ $path != *" "* && " %s " == *" $path "* ]]; then
            path="$path $w"
        fi
    done
    if [[ $cur == -* ]]; then
        case $path in
`, strings.Join(groupNames, " "))
	for i := range commands {
		fmt.Fprintf(&b, "            %q) words=%q ;;\n", commands[i].path, "--"+strings.Join(append(commandFlags(&commands[i]), "help"), " --"))
	}
	fmt.Fprintf(&b, `            *) words="--help" ;;
        esac
    else
        case $path in
            "" | help) words=%q ;;
`, strings.Join(topLevel(), " "))
	for _, g := range groups {
		fmt.Fprintf(&b, "            %q) words=%q ;;\n", g.name, strings.Join(g.subcommands(), " "))
	}
	b.WriteString(`            completion) words="bash zsh fish" ;;
        esac
    fi
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _usercenter usercenter
`)
	return b.String()
}

// fishCompletion is the same for fish, with each command's summary.
func fishCompletion() string {
	var b strings.Builder
	b.WriteString("# fish completion for usercenter: usercenter completion fish | source\n")
	q := func(s string) string {
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
	}
	for _, g := range groups {
		fmt.Fprintf(&b, "complete -c usercenter -n __fish_use_subcommand -a %s -d %s\n", g.name, q(g.summary))
	}
	for i := range commands {
		c := &commands[i]
		words := strings.Fields(c.path)
		var cond string
		if len(words) == 1 {
			fmt.Fprintf(&b, "complete -c usercenter -n __fish_use_subcommand -a %s -d %s\n", c.path, q(c.summary))
			cond = "__fish_seen_subcommand_from " + c.path
		} else {
			subs := findGroup(words[0]).subcommands()
			fmt.Fprintf(&b, "complete -c usercenter -n %s -a %s -d %s\n",
				q("__fish_seen_subcommand_from "+words[0]+"; and not __fish_seen_subcommand_from "+strings.Join(subs, " ")), words[1], q(c.summary))
			cond = "__fish_seen_subcommand_from " + words[0] + "; and __fish_seen_subcommand_from " + words[1]
		}
		for _, f := range commandFlags(c) {
			fmt.Fprintf(&b, "complete -c usercenter -n %s -l %s\n", q(cond), f)
		}
	}
	fmt.Fprintf(&b, "complete -c usercenter -n __fish_use_subcommand -a help -d %s\n", q("shows a command's arguments and flags"))
	fmt.Fprintf(&b, "complete -c usercenter -n %s -a 'bash zsh fish'\n", q("__fish_seen_subcommand_from completion"))
	return b.String()
}
