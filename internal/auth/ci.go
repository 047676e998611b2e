package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/appcfg/appcfg/internal/lazyre"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/appcfg/appcfg/internal/loopback"
	"github.com/appcfg/appcfg/internal/redact"
)

// DefaultIAMCredentialsURL is the IAM Service Account Credentials API,
// which issues the tokens of an impersonated service account.
const DefaultIAMCredentialsURL = "https://iamcredentials.googleapis.com/"

// TokenError is a failure to get an access token from a credential source.
// Transient is true when the source could not be reached or failed on its
// side (a network error, a 5xx answer): the same command may work later;
// otherwise the credential itself was refused.
type TokenError struct {
	Source    string // what was asked, e.g. "the access token file /x"
	Err       error
	Transient bool
}

func (e *TokenError) Error() string {
	return "getting an access token from " + e.Source + ": " + redact.String(e.Err.Error())
}

func (e *TokenError) Unwrap() error { return e.Err }

// tokenFileSource reads the access token from a file, and reads it again
// when the file changes, so a CI step or sidecar that refreshes the file is
// followed. The token is never refreshed by appcfg itself.
type tokenFileSource struct {
	path string

	mu      sync.Mutex
	tok     *oauth2.Token
	modTime time.Time
	size    int64
}

func newTokenFileSource(path string) (*tokenFileSource, error) {
	s := &tokenFileSource{path: path}
	if _, err := s.Token(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *tokenFileSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := os.Stat(s.path)
	if err == nil && s.tok != nil && st.ModTime().Equal(s.modTime) && st.Size() == s.size {
		return s.tok, nil
	}
	var data []byte
	if err == nil {
		data, err = os.ReadFile(s.path)
	}
	if err != nil {
		return nil, fmt.Errorf("--access_token_file %s: %w; write the access token (for example the output of `gcloud auth print-access-token`) to that file", s.path, err)
	}
	tok := strings.TrimSpace(string(data))
	switch {
	case tok == "":
		return nil, fmt.Errorf("--access_token_file %s is empty; write the access token to it", s.path)
	case strings.ContainsAny(tok, " \t\r\n"):
		// A JSON key or a token file of several lines is the wrong file:
		// sending it as a bearer token would only earn a 401.
		return nil, fmt.Errorf("--access_token_file %s holds more than one word; it must hold only the access token (a JSON key goes to --service_account_json or GOOGLE_APPLICATION_CREDENTIALS)", s.path)
	}
	s.tok = &oauth2.Token{AccessToken: tok, TokenType: "Bearer"}
	s.modTime, s.size = st.ModTime(), st.Size()
	return s.tok, nil
}

// impersonateSource gets tokens of a service account from the IAM
// Credentials API's generateAccessToken, authorised by base (the caller's
// own credentials, which need iam.serviceAccounts.getAccessToken on the
// target: the Service Account Token Creator role).
type impersonateSource struct {
	ctx       context.Context
	hc        *http.Client
	endpoint  string // ends with "/"
	target    string
	delegates []string
	scopes    []string
	base      oauth2.TokenSource
}

// newImpersonateSource parses chain, gcloud's form of
// --impersonate-service-account: the target, or a comma-separated
// delegation chain whose last account is the target.
func newImpersonateSource(ctx context.Context, o Options, base oauth2.TokenSource) (oauth2.TokenSource, error) {
	var chain []string
	for _, a := range strings.Split(o.ImpersonateServiceAccount, ",") {
		if a = strings.TrimSpace(a); a != "" {
			chain = append(chain, a)
		}
	}
	if len(chain) == 0 {
		return nil, errors.New("--impersonate_service_account is empty; give the service account's email")
	}
	for _, a := range chain {
		if !strings.Contains(a, "@") || strings.ContainsAny(a, "/ ") {
			return nil, fmt.Errorf("--impersonate_service_account %q is not a service account email (like deployer@PROJECT.iam.gserviceaccount.com)", a)
		}
	}
	ep := o.IAMCredentialsURL
	if ep == "" {
		ep = DefaultIAMCredentialsURL
	}
	if !strings.HasSuffix(ep, "/") {
		ep += "/"
	}
	if u, err := url.Parse(ep); err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback.Host(u.Hostname()))) {
		// The caller's token goes there.
		return nil, fmt.Errorf("IAM Credentials endpoint %q: must be an https URL (plain http only to loopback)", ep)
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	s := &impersonateSource{ctx: ctx, hc: hc, endpoint: ep, target: chain[len(chain)-1],
		scopes: o.scopes(), base: base}
	for _, d := range chain[:len(chain)-1] {
		s.delegates = append(s.delegates, "projects/-/serviceAccounts/"+d)
	}
	return oauth2.ReuseTokenSource(nil, s), nil
}

func (s *impersonateSource) Token() (*oauth2.Token, error) {
	src := "the IAM Credentials API for " + s.target
	btok, err := s.base.Token()
	if err != nil {
		return nil, err // the base source says which one failed
	}
	body, _ := json.Marshal(map[string]any{"scope": s.scopes, "delegates": s.delegates, "lifetime": "3600s"})
	u := s.endpoint + "v1/projects/-/serviceAccounts/" + url.PathEscape(s.target) + ":generateAccessToken"
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, &TokenError{Source: src, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	btok.SetAuthHeader(req)
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, &TokenError{Source: src, Err: err, Transient: true}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, &TokenError{Source: src, Err: err, Transient: true}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &TokenError{Source: src, Err: impersonateRefusal(resp.StatusCode, data, s.target),
			Transient: resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests}
	}
	var out struct {
		AccessToken string    `json:"accessToken"`
		ExpireTime  time.Time `json:"expireTime"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.AccessToken == "" {
		return nil, &TokenError{Source: src, Err: errors.New("the answer holds no accessToken")}
	}
	return &oauth2.Token{AccessToken: out.AccessToken, TokenType: "Bearer", Expiry: out.ExpireTime}, nil
}

// impersonateRefusal words an error answer of generateAccessToken, naming
// what to grant for the refusals CI setups meet.
func impersonateRefusal(code int, data []byte, target string) error {
	var env struct {
		Error struct {
			Message string `json:"message"`
			Status  string `json:"status"`
		} `json:"error"`
	}
	msg := strings.TrimSpace(string(data))
	if json.Unmarshal(data, &env) == nil && env.Error.Message != "" {
		msg = env.Error.Message
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	err := fmt.Errorf("%d %s: %s", code, http.StatusText(code), msg)
	switch code {
	case http.StatusUnauthorized:
		return fmt.Errorf("%w (the credentials that ask for the impersonation were refused)", err)
	case http.StatusForbidden:
		return fmt.Errorf("%w (the caller needs iam.serviceAccounts.getAccessToken on %s: grant it the Service Account Token Creator role, roles/iam.serviceAccountTokenCreator, on that service account)", err, target)
	case http.StatusNotFound:
		return fmt.Errorf("%w (no service account %s: check the email)", err, target)
	}
	return err
}

// classifyingSource turns the failures of ts into TokenErrors, so every
// source's failure tells a refused credential from an unreachable issuer.
type classifyingSource struct {
	ts   oauth2.TokenSource
	desc string
	wrap func(*TokenError) error // Options.ClassifyError; nil for none
}

func (c classifyingSource) Token() (*oauth2.Token, error) {
	t, err := c.ts.Token()
	if err == nil {
		return t, nil
	}
	var te *TokenError
	if !errors.As(err, &te) {
		te = &TokenError{Source: c.desc, Err: err, Transient: transientTokenError(err)}
	}
	if c.wrap != nil {
		return nil, c.wrap(te)
	}
	return nil, te
}

// transientTokenError reports whether err is a token endpoint's 5xx or 429,
// or the endpoint could not be reached at all.
func transientTokenError(err error) bool {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.Response != nil && (re.Response.StatusCode >= 500 || re.Response.StatusCode == http.StatusTooManyRequests)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return true
	}
	// x/oauth2's STS exchange and its service account impersonation (of
	// external_account files) flatten their errors with %v: only the text
	// tells an unreachable or failing endpoint.
	msg := err.Error()
	if m := statusCodeRE.FindStringSubmatch(msg); m != nil {
		return m[1][0] == '5' || m[1] == "429"
	}
	return strings.Contains(msg, "invalid response from Secure Token Server") ||
		strings.Contains(msg, "unable to generate access token")
}

var statusCodeRE = lazyre.New(`oauth2/google: status code (\d{3})`)
