// Package backoff holds the retry timing the HTTP backends share:
// exponential backoff with full jitter, a Retry-After reader and a sleep
// that ends with its context.
package backoff
