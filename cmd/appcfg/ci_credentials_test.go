package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/auth"
	"github.com/appcfg/appcfg/internal/auth/authtest"
)

// TestCICredentials: each way a CI job authenticates reaches the App Engine
// API with the token it should: --access_token_file, an impersonated service
// account, and workload identity federation through an external_account
// file (GOOGLE_APPLICATION_CREDENTIALS), against loopback fakes of the
// Admin API, STS and IAM Credentials.
func TestCICredentials(t *testing.T) {
	const sa = "deployer@p.iam.gserviceaccount.com"
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("ya29.file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		args  []string
		setup func(t *testing.T, iam *authtest.Fake)
		want  string
	}{
		{"access token file", []string{"--access_token_file", tokenFile}, nil, "Bearer ya29.file-token"},
		{"impersonation", []string{"--oauth2_access_token", "ya29.caller", "--impersonate_service_account", sa},
			func(t *testing.T, iam *authtest.Fake) { iam.Grant("ya29.caller", sa) }, "Bearer " + authtest.TokenFor(sa)},
		{"impersonation of the token file's caller", []string{"--access_token_file", tokenFile, "--impersonate_service_account", sa},
			func(t *testing.T, iam *authtest.Fake) { iam.Grant("ya29.file-token", sa) }, "Bearer " + authtest.TokenFor(sa)},
		{"external account", nil, func(t *testing.T, iam *authtest.Fake) {
			t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", iam.ExternalAccountFile(t, t.TempDir(), sa))
		}, "Bearer " + authtest.TokenFor(sa)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGoogle(t)
			g.env(t)
			iam := authtest.New(t)
			t.Setenv("APPCFG_IAMCREDENTIALS_API", iam.URL)
			t.Setenv("GCE_METADATA_HOST", "127.0.0.1:1")
			if tt.setup != nil {
				tt.setup(t, iam)
			}
			code, _, stderr := runCLI(t, append([]string{"list_versions", "--backend", "appengine://p"}, tt.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			if got := g.authorizations(); len(got) != 1 || got[0] != tt.want {
				t.Errorf("the Admin API saw Authorization %q, want only %q", got, tt.want)
			}
		})
	}
}

// A refused credential is a failure of class denied (not transient): the
// backend does not retry it, and the message says what to grant.
func TestCICredentialsRefused(t *testing.T) {
	g := newFakeGoogle(t)
	g.env(t)
	iam := authtest.New(t)
	t.Setenv("APPCFG_IAMCREDENTIALS_API", iam.URL)
	code, _, stderr := runCLI(t, "list_versions", "--backend", "appengine://p",
		"--oauth2_access_token", "ya29.caller", "--impersonate_service_account", "deployer@p.iam.gserviceaccount.com")
	if code != exitDenied || !strings.Contains(stderr, "roles/iam.serviceAccountTokenCreator") {
		t.Errorf("exit %d, want %d naming the role to grant:\n%s", code, exitDenied, stderr)
	}
	if n := len(iam.Log()); n != 1 {
		t.Errorf("%d generateAccessToken requests, want 1 (a refusal is not retried)", n)
	}
	if len(g.callLog()) != 0 {
		t.Errorf("the Admin API was called without a token: %q", g.callLog())
	}
	missing := filepath.Join(t.TempDir(), "no-token")
	code, _, stderr = runCLI(t, "list_versions", "--backend", "appengine://p", "--access_token_file", missing)
	if code != exitDenied || !strings.Contains(stderr, missing) {
		t.Errorf("missing token file: exit %d, want %d naming %s:\n%s", code, exitDenied, missing, stderr)
	}
	// The IAM API down: transient (75), retry later.
	iam.SetFail(503)
	code, _, stderr = runCLI(t, "list_versions", "--backend", "appengine://p",
		"--oauth2_access_token", "ya29.caller", "--impersonate_service_account", "deployer@p.iam.gserviceaccount.com")
	if code != exitTransient {
		t.Errorf("IAM Credentials answering 503: exit %d, want %d:\n%s", code, exitTransient, stderr)
	}

	// The classes, as the exit status reads them.
	for _, tt := range []struct {
		fail  int
		class error
	}{{0, backend.ErrDenied}, {503, backend.ErrTransient}} {
		iam.SetFail(tt.fail)
		hc, _, err := auth.Client(t.Context(), auth.Options{AccessToken: "ya29.caller", ImpersonateServiceAccount: "x@p.iam.gserviceaccount.com",
			IAMCredentialsURL: iam.URL, ClassifyError: classifyTokenError}, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = hc.Get(g.srv.URL)
		if !errors.Is(err, tt.class) {
			t.Errorf("IAM answering %d: error %v is not %v", tt.fail, err, tt.class)
		}
	}
}
