package serve

import (
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/appcfg/appcfg/backend"
)

// loginPath is the sign-in page, at the dev server's address.
const loginPath = "/_ah/login"

// loginCookie holds "email:admin:user_id" as the dev server's cookie does.
// It is not signed: the local host is for testing on one's own machine,
// where anyone may sign in as anyone, administrator included.
const loginCookie = "dev_appserver_login"

type user struct {
	email string
	admin bool
	id    string
}

func readUser(r *http.Request) (user, bool) {
	c, err := r.Cookie(loginCookie)
	if err != nil {
		return user{}, false
	}
	v, err := url.QueryUnescape(c.Value)
	if err != nil {
		return user{}, false
	}
	parts := strings.Split(v, ":")
	if len(parts) != 3 || !strings.Contains(parts[0], "@") {
		return user{}, false
	}
	return user{email: parts[0], admin: parts[1] == "True", id: parts[2]}, true
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// login serves the sign-in page: GET shows the form, POST signs in or out
// and goes back to the continue URL.
func (s *Server) login(x *exchange) {
	r := x.r
	if err := r.ParseForm(); err != nil {
		x.logf(backend.Info, "sign-in form refused: %v", err)
		s.plainError(x, http.StatusBadRequest, "The sign-in form could not be read: "+err.Error())
		return
	}
	cont := safeContinue(r.FormValue("continue"), r.Host)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		u, signedIn := readUser(r)
		x.Header().Set("Content-Type", "text/html; charset=utf-8")
		x.Header().Set("Cache-Control", "no-store")
		x.WriteHeader(http.StatusOK)
		status := "Not signed in."
		if signedIn {
			role := ""
			if u.admin {
				role = " (administrator)"
			}
			status = "Signed in as " + html.EscapeString(u.email) + role + "."
		}
		fmt.Fprintf(x, loginForm, status, html.EscapeString(loginPath), html.EscapeString(cont))
	case http.MethodPost:
		if r.FormValue("action") == "Logout" {
			x.logf(backend.Info, "signed out")
			http.SetCookie(x, &http.Cookie{Name: loginCookie, Value: "", Path: "/", MaxAge: -1})
			http.Redirect(x, r, cont, http.StatusFound)
			return
		}
		email := strings.TrimSpace(r.FormValue("email"))
		if email == "" || !strings.Contains(email, "@") || strings.ContainsAny(email, ": \t\r\n") {
			s.plainError(x, http.StatusBadRequest, "Give an email address, such as test@example.com.")
			return
		}
		admin := "False"
		if r.FormValue("admin") != "" {
			admin = "True"
		}
		// The dev server derives a stable numeric user id from the email.
		sum := sha1.Sum([]byte(strings.ToLower(email)))
		id := strconv.FormatUint(binary.BigEndian.Uint64(sum[:8])%1e18+1, 10)
		x.logf(backend.Info, "signed in as %s (admin %s)", email, admin)
		http.SetCookie(x, &http.Cookie{Name: loginCookie, Value: url.QueryEscape(email + ":" + admin + ":" + id),
			Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.Redirect(x, r, cont, http.StatusFound)
	default:
		x.Header().Set("Allow", "GET, HEAD, POST")
		s.plainError(x, http.StatusMethodNotAllowed, "The sign-in page answers GET and POST only.")
	}
}

// safeContinue keeps the continue URL only when it stays on this host, so
// the sign-in page cannot send anyone elsewhere. Browsers read a backslash
// as a slash and drop tabs and newlines, so "/\evil.example" would leave the
// site: such URLs go to "/".
func safeContinue(cont, host string) string {
	if cont == "" || strings.ContainsFunc(cont, func(r rune) bool { return r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) }) {
		return "/"
	}
	u, err := url.Parse(cont)
	if err != nil {
		return "/"
	}
	if u.Scheme == "" && u.Host == "" && strings.HasPrefix(cont, "/") && !strings.HasPrefix(cont, "//") {
		return cont
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && strings.EqualFold(u.Host, host) {
		return cont
	}
	return "/"
}

const loginForm = `<!DOCTYPE html>
<html><head><title>Sign in</title></head>
<body>
<h1>Sign in to the local host</h1>
<p>%s</p>
<p>This is the local host's stand-in for Google sign-in: no password is asked.</p>
<form method="post" action="%s">
<input type="hidden" name="continue" value="%s">
<p><label>Email: <input type="email" name="email" value="test@example.com"></label></p>
<p><label><input type="checkbox" name="admin" value="True"> Sign in as administrator</label></p>
<p><input type="submit" name="action" value="Login"> <input type="submit" name="action" value="Logout"></p>
</form>
</body></html>
`
