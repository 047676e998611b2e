// Package authtest is a loopback fake of the Google endpoints CI
// credentials go through: the Security Token Service (STS) that exchanges a
// workload identity federation subject token (an OIDC token of GitHub
// Actions, GitLab …) for a federated token, and the IAM Service Account
// Credentials API whose generateAccessToken turns a caller's token into a
// service account's. Tests of internal/auth and of the commands share it.
package authtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fake is the STS and IAM Credentials fake.
type Fake struct {
	*httptest.Server

	mu sync.Mutex
	// SubjectToken is the subject token STS accepts (Accept); it answers
	// FederatedToken for it.
	SubjectToken, FederatedToken string
	// Grants maps a caller's bearer token to the service accounts it may
	// impersonate (Grant); the token given for account A is TokenFor(A).
	Grants map[string][]string
	// Fail, when non-zero, answers every request with this status
	// (SetFail).
	Fail int
	// Requests are the method and path of each request, in order (Log).
	Requests []string
}

// New starts the fake; it stops when the test ends.
func New(t testing.TB) *Fake {
	f := &Fake{SubjectToken: "oidc-subject-token", FederatedToken: "federated-token", Grants: map[string][]string{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// TokenFor is the access token the fake issues for a service account.
func TokenFor(account string) string { return "sa-token-for-" + account }

// Grant lets the holder of token impersonate account.
func (f *Fake) Grant(token, account string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Grants[token] = append(f.Grants[token], account)
}

// SetFail makes every answer this status (0: answer normally).
func (f *Fake) SetFail(code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Fail = code
}

// Accept makes STS accept only this subject token from now on.
func (f *Fake) Accept(subject string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.SubjectToken = subject
}

// Log returns the requests so far.
func (f *Fake) Log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.Requests...)
}

// ImpersonationURL is the generateAccessToken address of account.
func (f *Fake) ImpersonationURL(account string) string {
	return f.URL + "/v1/projects/-/serviceAccounts/" + account + ":generateAccessToken"
}

// ExternalAccountFile writes a workload identity federation credentials
// file (type external_account, as `gcloud iam workload-identity-pools
// create-cred-config` writes it for a file-sourced OIDC token) into dir,
// whose STS and impersonation addresses are the fake's, and the subject
// token file it reads. It returns the credentials file's path.
func (f *Fake) ExternalAccountFile(t testing.TB, dir, account string) string {
	t.Helper()
	subject := filepath.Join(dir, "oidc-token")
	f.mu.Lock()
	accepted := f.SubjectToken
	f.mu.Unlock()
	if err := os.WriteFile(subject, []byte(accepted), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{
		"type":                              "external_account",
		"audience":                          "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/ci/providers/github",
		"subject_token_type":                "urn:ietf:params:oauth:token-type:jwt",
		"token_url":                         f.URL + "/v1/token",
		"service_account_impersonation_url": f.ImpersonationURL(account),
		"credential_source":                 map[string]any{"file": subject},
	}
	data, _ := json.MarshalIndent(cfg, "", "  ")
	p := filepath.Join(dir, "external-account.json")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f.Grant(f.FederatedToken, account)
	return p
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.Requests = append(f.Requests, r.Method+" "+r.URL.Path)
	fail := f.Fail
	f.mu.Unlock()
	if fail != 0 {
		answer(w, fail, errorBody(fail, "injected failure"))
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/token":
		f.sts(w, r)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, ":generateAccessToken"):
		f.generate(w, r)
	default:
		answer(w, http.StatusNotFound, errorBody(404, "no such method: "+r.URL.Path))
	}
}

// sts answers an RFC 8693 token exchange.
func (f *Fake) sts(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		answer(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	if r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange" ||
		r.PostForm.Get("subject_token_type") != "urn:ietf:params:oauth:token-type:jwt" ||
		!strings.HasPrefix(r.PostForm.Get("audience"), "//iam.googleapis.com/") {
		answer(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "not a token exchange of a JWT"})
		return
	}
	f.mu.Lock()
	accepted, federated := f.SubjectToken, f.FederatedToken
	f.mu.Unlock()
	if r.PostForm.Get("subject_token") != accepted {
		answer(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "the subject token was not accepted"})
		return
	}
	answer(w, http.StatusOK, map[string]any{"access_token": federated, "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
		"token_type": "Bearer", "expires_in": 3600})
}

// generate answers generateAccessToken for the account in the path.
func (f *Fake) generate(w http.ResponseWriter, r *http.Request) {
	account := strings.TrimSuffix(r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:], ":generateAccessToken")
	var body struct {
		Scope    []string `json:"scope"`
		Lifetime string   `json:"lifetime"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Scope) == 0 {
		answer(w, http.StatusBadRequest, errorBody(400, "scope is required"))
		return
	}
	caller, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		answer(w, http.StatusUnauthorized, errorBody(401, "Request is missing required authentication credential."))
		return
	}
	f.mu.Lock()
	allowed := false
	for _, a := range f.Grants[caller] {
		allowed = allowed || a == account
	}
	f.mu.Unlock()
	if !allowed {
		answer(w, http.StatusForbidden, errorBody(403, "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist)."))
		return
	}
	answer(w, http.StatusOK, map[string]any{"accessToken": TokenFor(account),
		"expireTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
}

func errorBody(code int, msg string) map[string]any {
	status := map[int]string{400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}[code]
	if status == "" {
		status = "UNAVAILABLE"
	}
	return map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status}}
}

func answer(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
