package cli

import (
	"os/user"

	"usercenter"
)

// operator is the actor of the administrative changes made at the command
// line (apps, keys, the master key): the operator, named by the OS user
// who ran the command, so that the audit trail says who it was.
func operator() *usercenter.Actor {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	return usercenter.OperatorAs("cli:" + name)
}
