// Package human writes values for people to read, the same way in every
// command: sizes in IEC units (KiB, MiB), and file names quoted when they
// hold characters that would act on a terminal instead of being shown.
// Machine-readable output (JSON) does not go through it: its encoder
// already escapes what needs escaping.
package human
