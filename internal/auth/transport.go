package auth

import (
	"net/http"
	"time"
)

// Transport returns the HTTP transport for Google APIs, keeping up to
// perHost idle connections per host (at least 2). http.DefaultTransport
// keeps only 2: with 16 uploads at once, 14 connections would be closed
// after every request and reopened for the next, each reopening costing a
// TCP (and, on the real APIs, a TLS) handshake and leaving a socket in
// TIME_WAIT. HTTP/2 is attempted on TLS, where one connection multiplexes
// every stream; plain loopback fakes speak HTTP/1.1 and need the pool.
func Transport(perHost int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	perHost = max(perHost, 2)
	t.MaxIdleConnsPerHost = perHost
	t.MaxIdleConns = max(t.MaxIdleConns, 4*perHost)
	t.IdleConnTimeout = 90 * time.Second
	t.ForceAttemptHTTP2 = true
	return t
}
