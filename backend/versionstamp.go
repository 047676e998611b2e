package backend

// VersionsStamper is implemented by Versions whose changes a reader can
// notice without listing them. A host that routes every request by the
// version list (serve) keeps ListVersions' answer while the stamp stays the
// same, instead of querying the store per request.
type VersionsStamper interface {
	// VersionsStamp returns a token that differs after any version of any
	// app is created, replaced, deleted, started or stopped, or a
	// service's traffic split changes, whichever process changed it. A
	// caller reads the stamp before listing, and keeps the list only for
	// that stamp. "" means the store cannot tell now: list every time.
	VersionsStamp() string
}
