// Package appmodel is the typed model of a service's yaml file (app.yaml,
// worker.yaml …) as the SDK's AppInfoExternal holds it after parsing:
// includes and builtins merged, `module:` folded into Service.
//
// It holds the types and the facts they answer about themselves (the
// service's name, the environment, the handler type); package appconfig
// parses files into them, fills defaults and merges includes, and re-exports
// every type under the same name. The model is a leaf of its own so that the
// backend contract can carry it: a deploy hands the host the parsed model,
// never YAML to parse again.
package appmodel
