//go:build !race

package skipfiles

// raceEnabled: the race detector allocates beside the code measured.
const raceEnabled = false
