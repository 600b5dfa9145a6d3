// Command usercenter is the self-hosted user identity and profile service.
package main

import (
	"os"

	"usercenter/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}
