package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appcfg/appcfg/internal/auth/authtest"
)

// --access_token_file: the token is the file's one word; it is read again
// when the file changes; every refusal names the file.
func TestAccessTokenFile(t *testing.T) {
	isolate(t)
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte("ya29.from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ts, desc, err := TokenSource(t.Context(), Options{AccessTokenFile: p})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(desc, p) || strings.Contains(desc, "ya29") {
		t.Errorf("description %q", desc)
	}
	if tok, err := ts.Token(); err != nil || tok.AccessToken != "ya29.from-file" {
		t.Fatalf("token %v, %v", tok, err)
	}
	// A CI step refreshes the file: the next request uses the new token.
	if err := os.WriteFile(p, []byte("ya29.refreshed-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(2 * time.Second)
	os.Chtimes(p, later, later)
	if tok, err := ts.Token(); err != nil || tok.AccessToken != "ya29.refreshed-token" {
		t.Fatalf("after the file changed: token %v, %v", tok, err)
	}

	for name, content := range map[string]string{"empty": " \n", "a key file": "{\n \"type\": \"service_account\"\n}\n"} {
		bad := filepath.Join(t.TempDir(), "token")
		os.WriteFile(bad, []byte(content), 0o600)
		_, _, err := TokenSource(t.Context(), Options{AccessTokenFile: bad})
		if err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%s: error %v does not name the file", name, err)
		}
	}
	missing := filepath.Join(t.TempDir(), "nope")
	if _, _, err := TokenSource(t.Context(), Options{AccessTokenFile: missing}); err == nil ||
		!strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "--access_token_file") {
		t.Errorf("missing file: %v", err)
	}
}

// --impersonate_service_account exchanges the caller's token for the
// service account's at generateAccessToken.
func TestImpersonateServiceAccount(t *testing.T) {
	isolate(t)
	f := authtest.New(t)
	const sa = "deployer@p.iam.gserviceaccount.com"
	f.Grant("ya29.caller", sa)
	o := Options{AccessToken: "ya29.caller", ImpersonateServiceAccount: sa, IAMCredentialsURL: f.URL}
	ts, desc, err := TokenSource(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(desc, sa) {
		t.Errorf("description %q does not name the service account", desc)
	}
	for range 3 {
		tok, err := ts.Token()
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken != authtest.TokenFor(sa) {
			t.Fatalf("token %q, want the service account's", tok.AccessToken)
		}
	}
	if log := f.Log(); len(log) != 1 || log[0] != "POST /v1/projects/-/serviceAccounts/"+sa+":generateAccessToken" {
		t.Errorf("requests %q, want one generateAccessToken (the token is reused until it expires)", log)
	}

	// Without the Token Creator role: the refusal names the permission
	// and the role, and is no transient failure.
	o.ImpersonateServiceAccount = "other@p.iam.gserviceaccount.com"
	ts, _, err = TokenSource(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ts.Token()
	var te *TokenError
	if !errors.As(err, &te) || te.Transient {
		t.Fatalf("error %v (%T), want a TokenError that is not transient", err, err)
	}
	for _, want := range []string{"iam.serviceAccounts.getAccessToken", "roles/iam.serviceAccountTokenCreator", "other@p.iam.gserviceaccount.com"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "ya29.caller") {
		t.Errorf("error %q shows the caller's token", err)
	}

	// An unavailable IAM API is transient.
	f.SetFail(503)
	o.ImpersonateServiceAccount = sa
	ts, _, _ = TokenSource(t.Context(), o)
	if _, err := ts.Token(); !errors.As(err, &te) || !te.Transient {
		t.Errorf("503: error %v, want a transient TokenError", err)
	}

	for _, bad := range []string{" , ", "projects/-/serviceAccounts/x"} {
		if _, _, err := TokenSource(t.Context(), Options{AccessToken: "x", ImpersonateServiceAccount: bad}); err == nil {
			t.Errorf("--impersonate_service_account %q accepted", bad)
		}
	}
}

// A delegation chain (gcloud's "a,b,target") asks for the last account,
// naming the others as delegates.
func TestImpersonateDelegationChain(t *testing.T) {
	isolate(t)
	f := authtest.New(t)
	f.Grant("ya29.caller", "target@p.iam.gserviceaccount.com")
	ts, _, err := TokenSource(t.Context(), Options{AccessToken: "ya29.caller", IAMCredentialsURL: f.URL,
		ImpersonateServiceAccount: "hop@p.iam.gserviceaccount.com, target@p.iam.gserviceaccount.com"})
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := ts.Token(); err != nil || tok.AccessToken != authtest.TokenFor("target@p.iam.gserviceaccount.com") {
		t.Fatalf("token %v, %v", tok, err)
	}
}

// Workload identity federation through ADC: an external_account file
// (GOOGLE_APPLICATION_CREDENTIALS) has its subject token exchanged at STS,
// and the federated token at generateAccessToken, both on loopback fakes.
func TestExternalAccountThroughADC(t *testing.T) {
	isolate(t)
	f := authtest.New(t)
	const sa = "ci-deployer@p.iam.gserviceaccount.com"
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", f.ExternalAccountFile(t, t.TempDir(), sa))
	ts, desc, err := TokenSource(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if desc != "Application Default Credentials" {
		t.Errorf("description %q", desc)
	}
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != authtest.TokenFor(sa) {
		t.Fatalf("token %q, want the service account's", tok.AccessToken)
	}
	want := []string{"POST /v1/token", "POST /v1/projects/-/serviceAccounts/" + sa + ":generateAccessToken"}
	if log := f.Log(); strings.Join(log, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests %q, want %q", log, want)
	}

	// A subject token STS refuses (an OIDC token of another repository):
	// a TokenError, not transient.
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", f.ExternalAccountFile(t, t.TempDir(), sa))
	f.Accept("the-accepted-one")
	ts, _, err = TokenSource(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ts.Token()
	var te *TokenError
	if !errors.As(err, &te) || te.Transient || !strings.Contains(err.Error(), "Application Default Credentials") {
		t.Errorf("refused subject token: %v, want a TokenError naming ADC, not transient", err)
	}
	// STS down: transient.
	f.SetFail(503)
	ts, _, _ = TokenSource(t.Context(), Options{})
	if _, err := ts.Token(); !errors.As(err, &te) || !te.Transient {
		t.Errorf("STS 503: %v, want a transient TokenError", err)
	}
}
