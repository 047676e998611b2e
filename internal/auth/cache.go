package auth

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/oauth2"
)

// DefaultCacheFile is where the browser login's token is kept:
// $XDG_CONFIG_HOME/appcfg/oauth2_token.json (os.UserConfigDir).
func DefaultCacheFile() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding the user config directory for the token cache: %w", err)
	}
	return filepath.Join(d, "appcfg", "oauth2_token.json"), nil
}

type cachedToken struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token"`
	Expiry       time.Time `json:"expiry,omitzero"`
}

func readCache(file string) (*oauth2.Token, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var c cachedToken
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("token cache %s is damaged: %w; delete it and log in again", file, err)
	}
	return &oauth2.Token{AccessToken: c.AccessToken, TokenType: c.TokenType, RefreshToken: c.RefreshToken, Expiry: c.Expiry}, nil
}

// writeCache stores tok readable by the user only: the directory 0700, the
// file 0600, written to a temporary file and renamed.
func writeCache(file string, tok *oauth2.Token) error {
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the token cache directory: %w", err)
	}
	b, err := json.Marshal(cachedToken{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry})
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".oauth2_token-*")
	if err != nil {
		return fmt.Errorf("writing the token cache: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	// CreateTemp already uses 0600; Chmod guards against an odd umask-less FS.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("writing the token cache: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("writing the token cache: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("writing the token cache: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing the token cache: %w", err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return fmt.Errorf("writing the token cache: %w", err)
	}
	return nil
}
