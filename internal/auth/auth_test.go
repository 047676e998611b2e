package auth

import (
	"bufio"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// tokenServer is an OAuth2 token endpoint on httptest that records the
// forms it receives.
type tokenServer struct {
	*httptest.Server
	mu    sync.Mutex
	forms []url.Values
	check func(url.Values) string // "" accepts; otherwise the error
}

func newTokenServer(t *testing.T, check func(url.Values) string) *tokenServer {
	ts := &tokenServer{check: check}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		ts.mu.Lock()
		ts.forms = append(ts.forms, r.PostForm)
		n := len(ts.forms)
		ts.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if msg := ts.check(r.PostForm); msg != "" {
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": msg})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": "ya29.issued-" + string(rune('0'+n)), "token_type": "Bearer",
			"expires_in": 3600, "refresh_token": "1//fresh-refresh"})
	}))
	t.Cleanup(ts.Close)
	return ts
}

// isolate keeps the developer's own credentials out of a test.
func isolate(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("CLOUDSDK_CONFIG", t.TempDir())
	t.Setenv("GCE_METADATA_HOST", "127.0.0.1:1") // a refused port: no metadata server
}

func token(t *testing.T, o Options) string {
	t.Helper()
	ts, desc, err := TokenSource(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(desc, "ya29") || strings.Contains(desc, "1//") {
		t.Errorf("the description %q shows a token", desc)
	}
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func TestAccessTokenUsedAsIs(t *testing.T) {
	if got := token(t, Options{AccessToken: "ya29.given"}); got != "ya29.given" {
		t.Fatalf("token %q", got)
	}
}

func TestRefreshTokenGrant(t *testing.T) {
	ts := newTokenServer(t, func(f url.Values) string {
		if f.Get("grant_type") != "refresh_token" || f.Get("refresh_token") != "1//given" || f.Get("client_id") == "" {
			return "bad form"
		}
		return ""
	})
	if got := token(t, Options{RefreshToken: "1//given", TokenURL: ts.URL}); got != "ya29.issued-1" {
		t.Fatalf("token %q", got)
	}
}

func TestServiceAccountJWT(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	var ts *tokenServer
	ts = newTokenServer(t, func(f url.Values) string {
		if f.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
			return "grant type " + f.Get("grant_type")
		}
		parts := strings.Split(f.Get("assertion"), ".")
		if len(parts) != 3 {
			return "not a JWS"
		}
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, h[:], sig); err != nil {
			return "bad signature"
		}
		var hdr, claims map[string]any
		b, _ := base64.RawURLEncoding.DecodeString(parts[0])
		json.Unmarshal(b, &hdr)
		b, _ = base64.RawURLEncoding.DecodeString(parts[1])
		json.Unmarshal(b, &claims)
		if hdr["alg"] != "RS256" || hdr["kid"] != "key-1" {
			return "bad header"
		}
		if claims["iss"] != "deployer@p.iam.gserviceaccount.com" || claims["aud"] != ts.URL || claims["scope"] != CloudPlatformScope {
			return "bad claims"
		}
		return ""
	})
	keyFile := filepath.Join(t.TempDir(), "sa.json")
	sa, _ := json.Marshal(map[string]string{"type": "service_account", "client_email": "deployer@p.iam.gserviceaccount.com",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "private_key_id": "key-1",
		"token_uri": ts.URL, "project_id": "p"})
	if err := os.WriteFile(keyFile, sa, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := token(t, Options{ServiceAccountJSON: keyFile}); got != "ya29.issued-1" {
		t.Fatalf("token %q", got)
	}
	if _, _, err := TokenSource(t.Context(), Options{ServiceAccountJSON: filepath.Join(t.TempDir(), "none.json")}); err == nil {
		t.Fatal("a missing key file was accepted")
	}
}

func TestMetadataServer(t *testing.T) {
	isolate(t)
	md := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Metadata-Flavor") != "Google" {
			http.Error(w, "no flavor", 403)
			return
		}
		w.Header().Set("Metadata-Flavor", "Google")
		switch r.URL.Path {
		case "/computeMetadata/v1/instance/service-accounts/default/token":
			json.NewEncoder(w).Encode(map[string]any{"access_token": "ya29.from-metadata", "expires_in": 3600, "token_type": "Bearer"})
		case "/computeMetadata/v1/project/project-id":
			io.WriteString(w, "p")
		default:
			http.NotFound(w, r)
		}
	}))
	defer md.Close()
	t.Setenv("GCE_METADATA_HOST", strings.TrimPrefix(md.URL, "http://"))
	if got := token(t, Options{}); got != "ya29.from-metadata" {
		t.Fatalf("token %q", got)
	}
}

func TestNoCredentialsNotInteractive(t *testing.T) {
	isolate(t)
	t.Setenv("GCE_METADATA_HOST", "")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "missing.json"))
	_, _, err := TokenSource(t.Context(), Options{})
	if err == nil || !strings.Contains(err.Error(), "--service_account_json") {
		t.Fatalf("no credentials: %v, want an error naming the flags", err)
	}
}

// TestBrowserFlowCachesToken runs the paste flow (--noauth_local_webserver)
// and the localhost flow, and checks the cache: mode 0600, used next time.
func TestBrowserFlowCachesToken(t *testing.T) {
	isolate(t)
	t.Setenv("GCE_METADATA_HOST", "")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "missing.json"))
	ts := newTokenServer(t, func(f url.Values) string {
		switch f.Get("grant_type") {
		case "authorization_code":
			if f.Get("code") != "4/code" || f.Get("code_verifier") == "" {
				return "bad code exchange"
			}
		case "refresh_token":
			if f.Get("refresh_token") != "1//fresh-refresh" {
				return "bad refresh"
			}
		default:
			return "bad grant"
		}
		return ""
	})
	cache := filepath.Join(t.TempDir(), "appcfg", "oauth2_token.json")
	pr, pw := io.Pipe()
	var prompt strings.Builder
	var mu sync.Mutex
	o := Options{Interactive: true, NoLocalWebserver: true, CacheFile: cache, TokenURL: ts.URL, AuthURL: "https://accounts.example/auth",
		In: pr, Prompt: writerFunc(func(p []byte) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			prompt.Write(p)
			if strings.Contains(prompt.String(), "paste it here") {
				u := consentURL(prompt.String())
				go io.WriteString(pw, "http://localhost:1/?state="+u.Query().Get("state")+"&code=4/code\n")
			}
			return len(p), nil
		})}
	if got := token(t, o); got != "ya29.issued-1" {
		t.Fatalf("token %q", got)
	}
	st, err := os.Stat(cache)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("the token cache has mode %v, want 0600", st.Mode().Perm())
	}
	// The next run uses the cache and asks nothing.
	o2 := Options{CacheFile: cache, TokenURL: ts.URL}
	ts2, desc, err := TokenSource(t.Context(), o2)
	if err != nil || !strings.Contains(desc, "cached") {
		t.Fatalf("second run: %v (%s)", err, desc)
	}
	if _, err := ts2.Token(); err != nil {
		t.Fatal(err)
	}

	// The localhost flow: the "browser" follows the consent URL's
	// redirect with a code.
	os.Remove(cache)
	o3 := Options{Interactive: true, CacheFile: cache, TokenURL: ts.URL, AuthURL: "https://accounts.example/auth",
		OpenBrowser: func(consent string) error {
			u, _ := url.Parse(consent)
			redirect := u.Query().Get("redirect_uri") + "?state=" + u.Query().Get("state") + "&code=4/code"
			go func() {
				resp, err := http.Get(redirect)
				if err == nil {
					resp.Body.Close()
				}
			}()
			return nil
		}}
	if got := token(t, o3); !strings.HasPrefix(got, "ya29.issued-") {
		t.Fatalf("localhost flow token %q", got)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// consentURL extracts the consent URL from the prompt.
func consentURL(prompt string) *url.URL {
	sc := bufio.NewScanner(strings.NewReader(prompt))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); strings.HasPrefix(l, "https://") {
			u, _ := url.Parse(l)
			return u
		}
	}
	return &url.URL{}
}

func TestLoggingTransportNeverLogsTokens(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	var log strings.Builder
	hc, _, err := Client(context.Background(), Options{AccessToken: "ya29.very-secret"}, &LoggingTransport{W: &log})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(srv.URL + "/v1/apps/p?access_token=ya29.very-secret")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(log.String(), "GET "+srv.URL+"/v1/apps/p") || strings.Contains(log.String(), "very-secret") {
		t.Fatalf("log %q: want the request, never the token", log.String())
	}
}
