package bench

import (
	"bytes"
	"os"
	"strconv"
)

// peakRSS is the process's peak resident set (VmHWM) in bytes, 0 where
// /proc is not available.
func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	return statusKB(b, "VmHWM:")
}

// statusKB reads a "Name:   123 kB" line of /proc/self/status, in bytes.
func statusKB(status []byte, name string) uint64 {
	i := bytes.Index(status, []byte(name))
	if i < 0 {
		return 0
	}
	line := status[i+len(name):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	f := bytes.Fields(line)
	if len(f) == 0 {
		return 0
	}
	kb, err := strconv.ParseUint(string(f[0]), 10, 64)
	if err != nil {
		return 0
	}
	return kb << 10
}

// resetPeakRSS starts a new peak resident set measurement (Linux 4.0 and
// later), so that each phase reports its own peak rather than the run's.
// It reports whether the kernel allowed it.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}
