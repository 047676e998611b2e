package appengine

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/appcfg/appcfg/internal/loopback"
)

// Endpoints are the API base URLs, each ending in "/". The zero value of a
// field means Google's production endpoint.
type Endpoints struct {
	AppEngine string // https://appengine.googleapis.com/
	Storage   string // https://storage.googleapis.com/ (serves storage/v1 and upload/storage/v1)
	Logging   string // https://logging.googleapis.com/
	Datastore string // https://datastore.googleapis.com/
}

// Production endpoints.
var production = Endpoints{
	AppEngine: "https://appengine.googleapis.com/",
	Storage:   "https://storage.googleapis.com/",
	Logging:   "https://logging.googleapis.com/",
	Datastore: "https://datastore.googleapis.com/",
}

// Environment variables that override the endpoints.
const (
	EnvAppEngineAPI = "APPCFG_APPENGINE_API"
	EnvStorageAPI   = "APPCFG_STORAGE_API"
	EnvLoggingAPI   = "APPCFG_LOGGING_API"
	EnvDatastoreAPI = "APPCFG_DATASTORE_API"
)

// EndpointsFromEnv reads the overrides from getenv (os.Getenv in
// production).
func EndpointsFromEnv(getenv func(string) string) Endpoints {
	return Endpoints{
		AppEngine: getenv(EnvAppEngineAPI),
		Storage:   getenv(EnvStorageAPI),
		Logging:   getenv(EnvLoggingAPI),
		Datastore: getenv(EnvDatastoreAPI),
	}
}

// resolve fills unset fields with production URLs, normalises the trailing
// slash and refuses what is not https (or http to loopback).
func (e Endpoints) resolve() (Endpoints, error) {
	fields := []struct {
		name string
		v    *string
		def  string
		env  string
	}{
		{"App Engine Admin API", &e.AppEngine, production.AppEngine, EnvAppEngineAPI},
		{"Cloud Storage API", &e.Storage, production.Storage, EnvStorageAPI},
		{"Cloud Logging API", &e.Logging, production.Logging, EnvLoggingAPI},
		{"Datastore API", &e.Datastore, production.Datastore, EnvDatastoreAPI},
	}
	for _, f := range fields {
		if *f.v == "" {
			*f.v = f.def
			continue
		}
		u, err := url.Parse(*f.v)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return e, fmt.Errorf("the %s endpoint %q (%s) is not an http(s) URL with a host", f.name, *f.v, f.env)
		}
		if u.Scheme == "http" && !loopback.Host(u.Hostname()) {
			return e, fmt.Errorf("the %s endpoint %q (%s) uses plain http to a non-loopback host; credentials would travel in clear: use https", f.name, *f.v, f.env)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return e, fmt.Errorf("the %s endpoint %q (%s) must not have a query or fragment", f.name, *f.v, f.env)
		}
		if !strings.HasSuffix(*f.v, "/") {
			*f.v += "/"
		}
	}
	return e, nil
}
