package skipfiles

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"strings"
)

// The guard looks at names first and reads the start of a file only where
// the name leaves it open: a .pem may be a public certificate, a .json a
// package manifest.
var (
	secretNames = map[string]string{
		".netrc": "a .netrc file (login passwords)", "_netrc": "a .netrc file (login passwords)",
		".pgpass": "a PostgreSQL password file", ".git-credentials": "a git credential store",
		".htpasswd": "a web server password file", "id_rsa": "an SSH private key",
		"id_dsa": "an SSH private key", "id_ecdsa": "an SSH private key", "id_ed25519": "an SSH private key",
		"terraform.tfvars": "Terraform variables (often credentials)", ".dockercfg": "Docker registry credentials",
	}
	secretExts = map[string]string{
		".p12": "a PKCS#12 key store", ".pfx": "a PKCS#12 key store", ".jks": "a Java key store",
		".keystore": "a Java key store", ".ppk": "a PuTTY private key", ".tfstate": "Terraform state (holds credentials)",
	}
	// .env.example and friends are templates, meant to be shared.
	envTemplate = regexp.MustCompile(`^\.env\.(example|sample|template|dist|defaults?)$`)
	privateKey  = regexp.MustCompile(`-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----`)
	credJSON    = regexp.MustCompile(`"type"\s*:\s*"(service_account|authorized_user|external_account|impersonated_service_account)"`)
	credKey     = regexp.MustCompile(`"(private_key|refresh_token|client_secret)"\s*:`)
	oauthClient = regexp.MustCompile(`"(installed|web)"\s*:\s*\{[^}]*"client_secret"`)
	npmToken    = regexp.MustCompile(`(?m)^\s*(//[^\s]*:)?_(authToken|auth|password)\s*=`)
	awsKey      = regexp.MustCompile(`(?m)^\s*aws_secret_access_key\s*=`)
	sniffExts   = map[string]bool{"": true, ".pem": true, ".key": true, ".txt": true, ".cfg": true, ".conf": true,
		".ini": true, ".yaml": true, ".yml": true, ".json": true, ".py": true, ".js": true, ".php": true,
		".go": true, ".rb": true, ".java": true, ".properties": true, ".xml": true}
)

// sniffSize is how much of a file the guard reads; sniffMax the largest
// file it reads at all.
const (
	sniffSize = 64 << 10
	sniffMax  = 1 << 20
)

// secretKind names what kind of credential a file looks like, "" when it
// looks like none. data is the start of the file, nil if not read.
func secretKind(rel string, data []byte) string {
	name := strings.ToLower(path.Base(rel))
	if what, ok := secretNames[name]; ok {
		return what
	}
	if (name == ".env" || strings.HasPrefix(name, ".env.")) && !envTemplate.MatchString(name) {
		return "an environment file (.env)"
	}
	if name == "credentials" && strings.HasSuffix(path.Dir(rel), ".aws") {
		return "AWS credentials"
	}
	if strings.HasPrefix(name, "gha-creds-") && strings.HasSuffix(name, ".json") {
		return "a GitHub Actions credential file"
	}
	if what, ok := secretExts[path.Ext(name)]; ok {
		return what
	}
	if data == nil {
		return ""
	}
	switch {
	case credJSON.Match(data) && credKey.Match(data):
		return "a Google credential JSON file"
	case privateKey.Match(data):
		return "a private key"
	case oauthClient.Match(data):
		return "an OAuth client secret"
	case (name == ".npmrc" || name == ".yarnrc" || name == ".yarnrc.yml") && npmToken.Match(data):
		return "a package registry token"
	case awsKey.Match(data):
		return "AWS credentials"
	case name == ".pypirc" && bytes.Contains(data, []byte("password")):
		return "a package index password"
	}
	return ""
}

// needsSniff tells whether a file's content must be read to decide.
func needsSniff(f File) bool {
	if f.Size == 0 || f.Size > sniffMax {
		return false
	}
	name := strings.ToLower(path.Base(f.Rel))
	return sniffExts[path.Ext(name)] || strings.HasPrefix(name, ".")
}

// checkSecrets stops the upload of files that look like credentials, saying
// which rule to add to leave each out.
func checkSecrets(ctx context.Context, files []File, m *Matcher) ([]Problem, error) {
	var probs []Problem
	buf := make([]byte, sniffSize)
	for _, f := range files {
		var data []byte
		if needsSniff(f) && secretKind(f.Rel, nil) == "" {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			n, err := readStart(f.Abs, buf)
			if err != nil {
				probs = append(probs, Problem{Kind: ProblemUnreadable, Path: f.Rel,
					Message: fmt.Sprintf("cannot read: %v", unwrapPath(err)), Hint: "fix its permissions, or skip it with a rule"})
				continue
			}
			data = buf[:n]
		}
		what := secretKind(f.Rel, data)
		if what == "" {
			continue
		}
		probs = append(probs, Problem{Kind: ProblemSecret, Path: f.Rel,
			Message: fmt.Sprintf("looks like %s and would be uploaded", what),
			Hint:    m.SkipHint(f.Rel) + "; or pass --allow-secrets if it really belongs in the app"})
	}
	return probs, nil
}

func readStart(name string, buf []byte) (int, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := io.ReadFull(f, buf)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return n, err
}

// SkipHint says what rule to add to leave rel out, in the syntax of the
// rule system in force.
func (m *Matcher) SkipHint(rel string) string {
	if m.mode == ModeIgnoreFile {
		file := m.ignorePath
		if file == "" {
			file = IgnoreFileName + " (create it from gcloud's default: appcfg ls_files --explain shows the rules)"
		}
		return fmt.Sprintf("add the line %q to %s", "/"+rel, file)
	}
	pat := "^" + regexp.QuoteMeta(rel) + "$"
	if m.re.rules[0].Kind == KindDefaultSkipFiles {
		defaults := make([]string, len(m.re.rules))
		for i, r := range m.re.rules {
			defaults[i] = r.Pattern
		}
		return fmt.Sprintf("add skip_files to app.yaml with %q after the default patterns, since a skip_files list replaces the default (%s)", pat, strings.Join(defaults, " "))
	}
	return fmt.Sprintf("add \"- %s\" to skip_files in %s", pat, m.re.rules[0].File)
}
