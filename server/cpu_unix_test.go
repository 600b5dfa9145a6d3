//go:build unix

package server_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used, user and system: on a
// machine shared with other work it tells a request's cost better than
// the wall clock, which counts the time other processes had the cores.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
