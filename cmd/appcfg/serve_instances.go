package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/serve"
	"github.com/appcfg/appcfg/serve/instance"
)

// instanceSettings is what serve needs to run versions' code on a store
// that lays versions out as files; a store that cannot serves static
// files only (its Config fields stay nil).
func instanceSettings(b backend.Backend, app string, io stdio, g globals) (serve.Config, error) {
	var cfg serve.Config
	files, err := backend.As[backend.Materializer](b, "running versions")
	if err != nil {
		g.statusf(io, "The host %s cannot lay versions out as files: script handlers answer 502.", b.Location())
		return cfg, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return cfg, fmt.Errorf("finding a cache directory for the instances' dependencies: %w (set XDG_CACHE_HOME or HOME)", err)
	}
	cfg.Files = files
	cfg.Instances = &instance.Config{
		CacheDir: filepath.Join(cache, "appcfg", "instances"),
		Orphan: func(k instance.Key, l backend.AppLogLine) {
			fmt.Fprintf(io.err, "[%s/%s] %s\n", k.Service, k.Version, l.Message)
		},
		Notify: func(msg string) { g.statusf(io, "%s", msg) },
	}
	if cs, err := backend.As[backend.ConfigStore](b, "dispatch.yaml"); err == nil {
		cfg.Configs = cs
	}
	return cfg, nil
}

// selfSignedTLS is serve --https's certificate: made for this run, for
// the loopback addresses and this machine's name, trusted by nobody (the
// browser asks once).
func selfSignedTLS() (*tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	names := []string{"localhost"}
	if h, err := os.Hostname(); err == nil && h != "" {
		names = append(names, h)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "appcfg serve (self-signed)"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(30 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: names, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, nil
}
