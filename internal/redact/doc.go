// Package redact keeps credentials and file contents out of what appcfg
// prints. It is the one place for the rule, used by every line that may
// carry text appcfg did not write itself: server answers in error messages,
// --json fields and logs (String), and values read from files quoted in
// messages (Quote).
//
// String replaces credentials in free text: Authorization headers, token
// and secret parameters of query strings, forms and JSON, Google token
// shapes (ya29. access tokens, 1// refresh tokens), AWS access key ids and
// PEM blocks. Quote shows at most a short first line of a value, and
// nothing of a value that looks like a credential.
package redact
