// Package auth turns appcfg's authentication flags into an OAuth2
// authorised *http.Client for Google's APIs.
//
// The sources, in the order Client tries them: an access token given on the
// command line (used as is, never refreshed), or in a file (read again when
// it changes), a refresh token given on the
// command line, a service-account JSON key, a token cached by an earlier
// browser login, Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS,
// gcloud's well-known file, the metadata server), and finally the interactive
// browser flow on a loopback redirect (or, with NoLocalWebserver, a
// copy-paste of the redirected URL). Application Default Credentials include
// workload identity federation files (external_account), which x/oauth2
// exchanges at STS. Impersonation of a service account applies on top of the
// source chosen (generateAccessToken of the IAM Credentials API).
//
// A failure to get a token is a *TokenError that tells a refused credential
// from an issuer that could not be reached; Options.ClassifyError lets the
// caller attach its failure classes.
//
// Tokens obtained by the interactive flow are cached in the user config
// directory in a file only the user may read (0600), written to a temporary
// file and renamed so a crash never leaves half a token. No function here
// prints a token: internal/redact scrubs them from any text that is logged.
package auth
