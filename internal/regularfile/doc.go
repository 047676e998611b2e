// Package regularfile reads configuration files that must be regular
// files. A named pipe, a device (/dev/urandom) or a socket given where a
// YAML file belongs is refused with an error saying what it is, before
// anything is read from it: opening a named pipe waits for a writer, and a
// device may never end.
package regularfile
