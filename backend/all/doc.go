// Package all builds the registry of every hosting backend appcfg knows, in
// one function and without init-time registration. Only the command layer
// imports it: feature packages see backend.Backend alone.
package all
