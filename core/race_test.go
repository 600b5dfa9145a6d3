//go:build race

package core

// raceDetector: the race detector drops sync.Pool entries at random,
// OpenString's buffers among them, so allocations are not counted under
// it.
const raceDetector = true
