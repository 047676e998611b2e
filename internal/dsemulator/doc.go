// Package dsemulator starts Google's Cloud Datastore emulator (the real
// one, from google-cloud-cli-datastore-emulator) for tests: in memory,
// strongly consistent, on a free loopback port.
//
// A JVM start and its warm-up cost more than most tests that use it, so a
// test package keeps one emulator for the whole process (Shared) and its
// tests keep apart by using projects of their own. The JVM runs with the
// client compiler only and the serial collector: the emulator's work in
// tests is short, and on a two-core machine the optimizing compiler's
// threads and the parallel collector cost more CPU than they ever win
// back (measured in docs/performance.md).
package dsemulator
