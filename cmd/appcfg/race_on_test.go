//go:build race

package main

// raceEnabled: the race detector allocates beside the code measured.
const raceEnabled = true
