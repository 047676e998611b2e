package auth

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/appcfg/appcfg/internal/crash"
	"github.com/appcfg/appcfg/internal/redact"
)

// CloudPlatformScope covers every API the App Engine backend calls, as gcloud
// requests it.
const CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// The installed-application client appcfg.py shipped with the SDK. Installed
// app secrets are not secret (RFC 8252 §8.5); overridable in Options.
const (
	defaultClientID     = "550516889912.apps.googleusercontent.com"
	defaultClientSecret = "ykPq-0UYfKNprLRjVx1hBBar"
)

// Options are the authentication settings, as the command line gives them.
type Options struct {
	// AccessToken is used as is (--oauth2_access_token); it is never
	// refreshed, so a long deploy may outlive it.
	AccessToken string
	// AccessTokenFile is a file holding the access token
	// (--access_token_file), read again whenever it changes.
	AccessTokenFile string
	// ImpersonateServiceAccount (--impersonate_service_account) is a
	// service account email, or a comma-separated delegation chain ending
	// with it: the credentials the other options select are exchanged for
	// its tokens at the IAM Credentials API (IAMCredentialsURL; tests point
	// it at httptest).
	ImpersonateServiceAccount string
	IAMCredentialsURL         string
	// RefreshToken (--oauth2_refresh_token) is exchanged at TokenURL with
	// ClientID/ClientSecret.
	RefreshToken string
	// ServiceAccountJSON is the path of a service-account key
	// (--service_account_json).
	ServiceAccountJSON string
	// NoLocalWebserver makes the browser flow ask for the redirected URL
	// to be pasted instead of listening on localhost.
	NoLocalWebserver bool
	// Interactive allows the browser flow when no other source works.
	Interactive bool
	// CacheFile holds the token of the browser flow; "" disables caching.
	CacheFile string
	// ClientID, ClientSecret, AuthURL and TokenURL override the OAuth2
	// client and Google's endpoints (tests point them at httptest).
	ClientID, ClientSecret string
	AuthURL, TokenURL      string
	// Scopes default to CloudPlatformScope.
	Scopes []string
	// Prompt receives the instructions of the browser flow; In answers
	// them (the pasted URL). OpenBrowser, if set, is called with the
	// consent URL.
	Prompt      io.Writer
	In          io.Reader
	OpenBrowser func(url string) error
	// ClassifyError, if set, wraps each failure to get a token (the
	// transport's requests then fail with what it returns): the caller
	// adds its failure class, which internal/ cannot name.
	ClassifyError func(*TokenError) error
	// HTTPClient is used for token requests (tests: a TLS-trusting
	// client); nil for http.DefaultClient.
	HTTPClient *http.Client
}

func (o Options) scopes() []string {
	if len(o.Scopes) > 0 {
		return o.Scopes
	}
	return []string{CloudPlatformScope}
}

func (o Options) config(redirect string) *oauth2.Config {
	c := &oauth2.Config{
		ClientID:     o.ClientID,
		ClientSecret: o.ClientSecret,
		Endpoint:     google.Endpoint,
		Scopes:       o.scopes(),
		RedirectURL:  redirect,
	}
	if c.ClientID == "" {
		c.ClientID, c.ClientSecret = defaultClientID, defaultClientSecret
	}
	if o.AuthURL != "" {
		c.Endpoint.AuthURL = o.AuthURL
	}
	if o.TokenURL != "" {
		c.Endpoint.TokenURL = o.TokenURL
	}
	return c
}

// withClient puts the token-request client in ctx, where x/oauth2 looks for it.
func (o Options) withClient(ctx context.Context) context.Context {
	if o.HTTPClient != nil {
		return context.WithValue(ctx, oauth2.HTTPClient, o.HTTPClient)
	}
	return ctx
}

// TokenSource returns the token source the options select, and a short
// description of it for --verbose (never the token). Its failures are
// *TokenError.
func TokenSource(ctx context.Context, o Options) (oauth2.TokenSource, string, error) {
	ts, desc, err := baseTokenSource(ctx, o)
	if err != nil {
		return nil, "", err
	}
	if o.ImpersonateServiceAccount != "" {
		// The token requests outlive this call, as in baseTokenSource.
		its, err := newImpersonateSource(context.WithoutCancel(ctx), o, classifyingSource{ts: ts, desc: desc})
		if err != nil {
			return nil, "", err
		}
		desc = "the service account " + o.ImpersonateServiceAccount + " impersonated with " + desc
		ts = its
	}
	return classifyingSource{ts: ts, desc: desc, wrap: o.ClassifyError}, desc, nil
}

// baseTokenSource is TokenSource before impersonation.
func baseTokenSource(ctx context.Context, o Options) (oauth2.TokenSource, string, error) {
	// The token source outlives this call: it must not be cancelled with
	// ctx, but it keeps ctx's values (the token-request client).
	tctx := o.withClient(context.WithoutCancel(ctx))
	switch {
	case o.AccessToken != "":
		return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: o.AccessToken, TokenType: "Bearer"}), "the access token given with --oauth2_access_token", nil
	case o.AccessTokenFile != "":
		ts, err := newTokenFileSource(o.AccessTokenFile)
		if err != nil {
			return nil, "", err
		}
		return ts, "the access token in " + o.AccessTokenFile, nil
	case o.RefreshToken != "":
		ts := o.config("").TokenSource(tctx, &oauth2.Token{RefreshToken: o.RefreshToken})
		return ts, "the refresh token given with --oauth2_refresh_token", nil
	case o.ServiceAccountJSON != "":
		b, err := os.ReadFile(o.ServiceAccountJSON)
		if err != nil {
			return nil, "", fmt.Errorf("reading the service account key: %w; pass the JSON key file downloaded from the IAM console with --service_account_json", err)
		}
		creds, err := google.CredentialsFromJSONWithType(tctx, b, google.ServiceAccount, o.scopes()...)
		if err != nil {
			return nil, "", fmt.Errorf("service account key %s: %w (it must be a JSON key of type service_account)", o.ServiceAccountJSON, err)
		}
		return creds.TokenSource, "the service account key " + o.ServiceAccountJSON, nil
	}
	if o.CacheFile != "" {
		if tok, err := readCache(o.CacheFile); err == nil && tok.RefreshToken != "" {
			ts := oauth2.ReuseTokenSource(tok, o.config("").TokenSource(tctx, tok))
			return &cachingSource{ts: ts, file: o.CacheFile, last: tok.AccessToken}, "the login cached in " + o.CacheFile, nil
		}
	}
	creds, adcErr := google.FindDefaultCredentials(tctx, o.scopes()...)
	if adcErr == nil {
		return creds.TokenSource, "Application Default Credentials", nil
	}
	if !o.Interactive {
		return nil, "", fmt.Errorf("no Google credentials found (%v); pass --oauth2_access_token, --access_token_file, --oauth2_refresh_token or --service_account_json, set GOOGLE_APPLICATION_CREDENTIALS (a service account key or a workload identity federation file), or run gcloud auth application-default login", adcErr)
	}
	tok, err := browserLogin(ctx, o)
	if err != nil {
		return nil, "", err
	}
	if o.CacheFile != "" {
		if err := writeCache(o.CacheFile, tok); err != nil {
			return nil, "", err
		}
	}
	ts := oauth2.ReuseTokenSource(tok, o.config("").TokenSource(tctx, tok))
	return &cachingSource{ts: ts, file: o.CacheFile, last: tok.AccessToken}, "the browser login", nil
}

// Client returns an http.Client that authorises every request with the
// token source the options select. base is the transport under it (nil for
// Transport(32): enough idle connections for the uploads at once).
func Client(ctx context.Context, o Options, base http.RoundTripper) (*http.Client, string, error) {
	ts, desc, err := TokenSource(ctx, o)
	if err != nil {
		return nil, "", err
	}
	if base == nil {
		base = Transport(32)
	}
	return &http.Client{Transport: &oauth2.Transport{Source: ts, Base: base}}, desc, nil
}

// cachingSource writes each new token of the browser login to the cache, so
// the next run does not ask again.
type cachingSource struct {
	ts   oauth2.TokenSource
	file string
	last string
}

func (c *cachingSource) Token() (*oauth2.Token, error) {
	t, err := c.ts.Token()
	if err != nil {
		return nil, err
	}
	if c.file != "" && t.AccessToken != c.last {
		// A failed cache write costs a login next time, not this deploy.
		if writeCache(c.file, t) == nil {
			c.last = t.AccessToken
		}
	}
	return t, nil
}

// browserLogin runs the OAuth2 authorization-code flow with PKCE.
func browserLogin(ctx context.Context, o Options) (*oauth2.Token, error) {
	if o.Prompt == nil {
		o.Prompt = io.Discard
	}
	state, err := randomString()
	if err != nil {
		return nil, err
	}
	verifier := oauth2.GenerateVerifier()
	ctx = o.withClient(ctx)
	if o.NoLocalWebserver {
		// Nothing listens there: the browser shows an error page whose
		// address bar holds the code, which the user pastes back.
		cfg := o.config("http://localhost:1/")
		authURL := cfg.AuthCodeURL(state, oauth2.AccessTypeOffline, oauth2.S256ChallengeOption(verifier))
		fmt.Fprintf(o.Prompt, "Go to the following link in your browser:\n\n    %s\n\nAfter you allow access, the browser is sent to a localhost page that does not load.\nCopy the whole address from the address bar and paste it here: ", authURL)
		if o.In == nil {
			return nil, errors.New("the browser login needs an answer on standard input")
		}
		line, err := bufio.NewReader(o.In).ReadString('\n')
		if err != nil && line == "" {
			return nil, fmt.Errorf("reading the pasted address: %w", err)
		}
		code, err := codeFromPaste(strings.TrimSpace(line), state)
		if err != nil {
			return nil, err
		}
		return exchange(ctx, cfg, code, verifier)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the local login server: %w; pass --noauth_local_webserver to paste the code instead", err)
	}
	defer ln.Close()
	cfg := o.config(fmt.Sprintf("http://localhost:%d/", ln.Addr().(*net.TCPAddr).Port))
	authURL := cfg.AuthCodeURL(state, oauth2.AccessTypeOffline, oauth2.S256ChallengeOption(verifier))
	type result struct {
		code string
		err  error
	}
	got := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A panic here is a bug: the login ends with it (exit 70), and
		// the browser gets a 500 instead of net/http's logged trace.
		var perr error
		defer func() {
			if perr != nil {
				http.Error(w, "appcfg: internal error", http.StatusInternalServerError)
				select {
				case got <- result{err: perr}:
				default:
				}
			}
		}()
		defer crash.Recover(&perr)
		q := r.URL.Query()
		if q.Get("state") == "" && q.Get("code") == "" && q.Get("error") == "" {
			http.NotFound(w, r) // favicon and the like
			return
		}
		code, err := codeFromQuery(q, state)
		if err != nil {
			fmt.Fprintln(w, "appcfg: login failed:", err)
		} else {
			fmt.Fprintln(w, "appcfg: login complete; you may close this window.")
		}
		select {
		case got <- result{code, err}:
		default:
		}
	})}
	// Serve's own error needs no path: it ends when srv is closed below,
	// and its handler recovers its panics.
	go srv.Serve(ln)
	defer srv.Close()
	fmt.Fprintf(o.Prompt, "Your browser has been opened to visit:\n\n    %s\n\nIf it did not open, copy the link into a browser on this machine, or rerun with --noauth_local_webserver.\n", authURL)
	if o.OpenBrowser != nil {
		_ = o.OpenBrowser(authURL) // the printed link is the fallback
	}
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the browser login: %w", ctx.Err())
	case r := <-got:
		if r.err != nil {
			return nil, r.err
		}
		return exchange(ctx, cfg, r.code, verifier)
	}
}

func exchange(ctx context.Context, cfg *oauth2.Config, code, verifier string) (*oauth2.Token, error) {
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("exchanging the login code for a token: %s", redact.String(err.Error()))
	}
	return tok, nil
}

func codeFromPaste(s, state string) (string, error) {
	if s == "" {
		return "", errors.New("no address was pasted; run the command again and paste the address the browser shows")
	}
	if !strings.Contains(s, "?") {
		return s, nil // the bare code
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("the pasted text is not an address: %w", err)
	}
	return codeFromQuery(u.Query(), state)
}

func codeFromQuery(q url.Values, state string) (string, error) {
	if e := q.Get("error"); e != "" {
		return "", fmt.Errorf("the login was refused: %s", e)
	}
	if q.Get("state") != state {
		return "", errors.New("the login answer does not belong to this request (state mismatch); run the command again")
	}
	code := q.Get("code")
	if code == "" {
		return "", errors.New("the login answer carries no code; run the command again")
	}
	return code, nil
}

func randomString() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating the login state: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
