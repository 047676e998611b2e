package skipfiles

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/appcfg/appcfg/internal/corpus"
	"github.com/appcfg/appcfg/internal/hashcache"
	"github.com/appcfg/appcfg/internal/testtree"
)

// testKeys are generated once per test binary: fresh material on every
// run, so the repository never holds a secret.
var testKeys = sync.OnceValue(func() map[string][]byte {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	pemOf := func(typ string, der []byte, headers map[string]string) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: der})
	}
	pkcs8 := func(k crypto.PrivateKey) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic(err)
		}
		return der
	}
	openssh := func(k crypto.PrivateKey, pass string) []byte {
		var b *pem.Block
		var err error
		if pass == "" {
			b, err = ssh.MarshalPrivateKey(k, "deploy@example")
		} else {
			b, err = ssh.MarshalPrivateKeyWithPassphrase(k, "deploy@example", []byte(pass))
		}
		if err != nil {
			panic(err)
		}
		return pem.EncodeToMemory(b)
	}
	ecDER, _ := x509.MarshalECPrivateKey(ecKey)
	iv := randomBytes(16)
	encPKCS8, _ := asn1.Marshal(struct {
		Algo pkix.AlgorithmIdentifier
		Data []byte
	}{pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}}, randomBytes(1216)})
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "demo.example"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ecKey.PublicKey, ecKey)
	if err != nil {
		panic(err)
	}
	sshPub, _ := ssh.NewPublicKey(edKey.Public())
	return map[string][]byte{
		"rsa-pkcs1":                 pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), nil),
		"rsa-pkcs8":                 pemOf("PRIVATE KEY", pkcs8(rsaKey), nil),
		"ec-sec1":                   pemOf("EC PRIVATE KEY", ecDER, nil),
		"ec-pkcs8":                  pemOf("PRIVATE KEY", pkcs8(ecKey), nil),
		"ed25519-pkcs8":             pemOf("PRIVATE KEY", pkcs8(edKey), nil),
		"rsa-openssh":               openssh(rsaKey, ""),
		"ed25519-openssh":           openssh(edKey, ""),
		"ed25519-openssh-encrypted": openssh(edKey, "passphrase"),
		"rsa-legacy-encrypted": pemOf("RSA PRIVATE KEY", randomBytes(1200),
			map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC," + strings.ToUpper(hex.EncodeToString(iv))}),
		"pkcs8-encrypted": pemOf("ENCRYPTED PRIVATE KEY", encPKCS8, nil),
		"pgp-secret":      pgpArmor(append([]byte{0xC5, 150}, randomBytes(150)...)),
		"der:rsa-pkcs8":   pkcs8(rsaKey),
		"cert":            pemOf("CERTIFICATE", cert, nil),
		"ssh-pub":         bytes.TrimSpace(ssh.MarshalAuthorizedKey(sshPub)),
	}
})

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func pgpArmor(packet []byte) []byte {
	var b bytes.Buffer
	b.WriteString("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n")
	b.WriteString(wrap64(base64.StdEncoding.EncodeToString(packet)))
	b.WriteString("=Q2Vn\n-----END PGP PRIVATE KEY BLOCK-----\n")
	return b.Bytes()
}

func wrap64(s string) string {
	var b strings.Builder
	for len(s) > 64 {
		b.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	return b.String() + s + "\n"
}

func randomString(n int, alphabet string) string {
	b := randomBytes(n)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

var placeholder = regexp.MustCompile(`\{\{([a-z0-9:-]+)(\|[a-z]+)?\}\}`)

// expand fills in the placeholders of a labelled file (testdata/secrets/README.md).
func expand(t *testing.T, name string, tmpl []byte) []byte {
	t.Helper()
	keys := testKeys()
	return placeholder.ReplaceAllFunc(tmpl, func(m []byte) []byte {
		sub := placeholder.FindSubmatch(m)
		key, form := string(sub[1]), strings.TrimPrefix(string(sub[2]), "|")
		switch {
		case key == "token":
			return []byte(randomString(32, alnum))
		case key == "aws-secret":
			for {
				if s := randomString(40, alnum+"+/"); randomLooking(s) {
					return []byte(s)
				}
			}
		case key == "random-base64":
			return []byte(strings.TrimSpace(wrap64(base64.StdEncoding.EncodeToString(randomBytes(600)))))
		case strings.HasPrefix(key, "pad:"), strings.HasPrefix(key, "ws:"):
			n, _ := strconv.Atoi(key[strings.IndexByte(key, ':')+1:])
			var b bytes.Buffer
			for i := 0; b.Len() < n; i++ {
				if key[0] == 'w' {
					b.WriteString("\n")
				} else {
					fmt.Fprintf(&b, "filler line %06d: nothing to see here, just text\n", i)
				}
			}
			return b.Bytes()
		}
		v, ok := keys[key]
		if !ok {
			t.Fatalf("%s: unknown placeholder %s", name, m)
		}
		text := strings.TrimRight(string(v), "\n")
		switch form {
		case "json":
			return []byte(strings.ReplaceAll(text, "\n", `\n`) + `\n`)
		case "concat":
			lines := strings.Split(text, "\n")
			for i, l := range lines {
				lines[i] = `"` + l + `\n"`
			}
			return []byte(strings.Join(lines, " +\n  "))
		case "indent":
			return []byte("    " + strings.ReplaceAll(text, "\n", "\n    "))
		case "":
			return v
		}
		t.Fatalf("%s: unknown form %s", name, m)
		return nil
	})
}

// labelledFile is one file of the labelled set, written out.
type labelledFile struct {
	label string // positive, warning or negative
	root  string // the label's directory, where file.Path is
	file  File
}

// writeLabelled writes testdata/secrets to a temporary directory with
// its placeholders filled in.
func writeLabelled(t *testing.T) []labelledFile {
	t.Helper()
	src := filepath.Join("testdata", "secrets")
	dst := t.TempDir()
	var out []labelledFile
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		label, inLabel, ok := strings.Cut(filepath.ToSlash(rel), "/")
		if !ok {
			return nil // the README
		}
		tmpl, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		abs := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(abs, expand(t, rel, tmpl), 0o600); err != nil {
			return err
		}
		info, err := os.Stat(abs)
		if err != nil {
			return err
		}
		out = append(out, labelledFile{label: label, root: filepath.Join(dst, label),
			file: File{Path: inLabel, Info: info}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSecretGuardLabelled measures the guard on the labelled set: recall
// on the positives must be 100%, with no false alarm on the negatives.
func TestSecretGuardLabelled(t *testing.T) {
	files := writeLabelled(t)
	buf := make([]byte, scanBufSize)
	var pos, found, neg, alarms, warns, warned int
	for _, lf := range files {
		f, err := fileSecret(context.Background(), lf.root, lf.file, buf)
		if err != nil {
			t.Errorf("%s/%s: %v", lf.label, lf.file.Path, err)
			continue
		}
		switch lf.label {
		case "positive":
			pos++
			if f != nil && !f.Warn {
				found++
			} else {
				t.Errorf("missed: positive/%s (%+v)", lf.file.Path, f)
			}
		case "warning":
			warns++
			if f != nil && f.Warn {
				warned++
			} else {
				t.Errorf("warning/%s: got %+v, want a warning", lf.file.Path, f)
			}
		case "negative":
			neg++
			if f != nil {
				alarms++
				t.Errorf("false alarm: negative/%s: %s (line %d)", lf.file.Path, f.What, f.Line)
			}
		default:
			t.Fatalf("unknown label %s", lf.label)
		}
	}
	t.Logf("secret guard on the labelled set: recall %d/%d positives (%.0f%%), %d/%d warnings, %d false alarms on %d negatives",
		found, pos, 100*float64(found)/float64(max(pos, 1)), warned, warns, alarms, neg)
	if pos < 30 || neg < 20 {
		t.Errorf("the labelled set shrank: %d positives, %d negatives", pos, neg)
	}
}

// TestSecretGuardCorpus runs the guard on every file of every whole app of
// the shared corpus (more than an upload would send): real public apps,
// none of which holds a credential, so every finding is a false alarm.
func TestSecretGuardCorpus(t *testing.T) {
	dir := corpus.Dir()
	if dir == "" {
		t.Skip("no shared corpus")
	}
	apps, err := os.ReadDir(filepath.Join(dir, "apps"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, scanBufSize)
	var nfiles, alarms int
	var size int64
	start := time.Now()
	for _, app := range apps {
		root := filepath.Join(dir, "apps", app.Name())
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			f := File{Path: filepath.ToSlash(rel), Info: info}
			nfiles++
			size += info.Size()
			got, err := fileSecret(context.Background(), root, f, buf)
			if err != nil {
				return err
			}
			if got != nil && !got.Warn {
				alarms++
				t.Errorf("false alarm: %s/%s: %s (line %d)", app.Name(), f.Path, got.What, got.Line)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("secret guard on the corpus: %d false alarms in %d whole apps (%d files, %d bytes, scanned in %v)",
		alarms, len(apps), nfiles, size, time.Since(start).Round(time.Millisecond))
}

func TestPEMInSourceCode(t *testing.T) {
	key := strings.TrimSpace(string(testKeys()["ec-sec1"]))
	lines := strings.Split(key, "\n")
	cases := map[string]string{
		"python implicit concatenation": "KEY = (\n    '" + strings.Join(lines, "\\n'\n    '") + "\\n')\n",
		"go raw string":                 "const key = `" + key + "`\n",
		"json escapes":                  `{"k": "` + strings.ReplaceAll(key, "\n", `\n`) + `"}`,
	}
	for name, text := range cases {
		i := strings.Index(text, "-----BEGIN")
		var prev byte
		if i > 0 {
			prev = text[i-1]
		}
		if _, ok := pemKeyAt([]byte(text[i:]), prev); !ok {
			t.Errorf("%s: key not found in\n%s", name, text)
		}
	}
}

func TestAWSSecretValue(t *testing.T) {
	real := "Zq3/hP9xT2mWcK7vBn4LrYd8sJ1uFg6EaQ5oXi0+"
	// The value as the detector sees it: what follows "key =" or "key:".
	for v, want := range map[string]bool{
		real:                                  true,
		"'" + real + "',":                     true,
		`"` + real + `"`:                      true,
		real + ")":                            true,
		"None,":                               false,
		"aws_secret_access_key,":              false,
		"web.config.get('AWS_SECRET_ACCESS')": false,
		"os.environ['AWS_SECRET_ACCESS_KEY']": false,
		"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY":   false,
		"'" + real[:20] + "'":                        false,
		"'abcdefghijklmnopqrstuvwxyzabcdefghijklmn'": false,
		"'" + real: false, // not closed on its line
	} {
		if got := awsSecretValue([]byte(v)); got != want {
			t.Errorf("awsSecretValue(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestEnvFileNames(t *testing.T) {
	for name, want := range map[string]bool{
		".env": true, ".envrc": true, ".env.production": true, ".env_prod": true, ".env-local": true,
		"production.env": true, ".env.test": true,
		".env.example": false, ".env.sample": false, "sample.env": false, ".env-template": false,
		".env.defaults": false, "example.env": false, "venv": false, ".environment": false, "env": false,
	} {
		if got := isEnvFile(name); got != want {
			t.Errorf("isEnvFile(%q) = %v, want %v", name, got, want)
		}
	}
	if got := stripBackupSuffix("id_rsa.bak.orig~"); got != "id_rsa" {
		t.Errorf("stripBackupSuffix = %q", got)
	}
}

// A key is found wherever it starts, also across the windows the scan
// reads, with its line, and the scan's memory does not grow with the file.
func TestScanFindsKeysAnywhereInBoundedMemory(t *testing.T) {
	key := testKeys()["rsa-pkcs1"]
	dir := t.TempDir()
	buf := make([]byte, scanBufSize)
	for _, off := range []int{0, scanChunk - 50, scanChunk, scanChunk + scanOverlap - 10, 2*scanChunk - 1, 8 << 20} {
		filler := bytes.Repeat([]byte("x"), off)
		lines := 1
		if off > 0 {
			// Filler lines of 64 bytes, the last one cut short.
			for i := 63; i < off; i += 64 {
				filler[i] = '\n'
				lines++
			}
		}
		p := filepath.Join(dir, fmt.Sprintf("at-%d.txt", off))
		if err := os.WriteFile(p, append(filler, key...), 0o600); err != nil {
			t.Fatal(err)
		}
		info, _ := os.Stat(p)
		f := File{Path: filepath.Base(p), Info: info}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		got, err := fileSecret(context.Background(), dir, f, buf)
		runtime.ReadMemStats(&after)
		if err != nil || got == nil || got.Line != lines {
			t.Errorf("key at byte %d (line %d): got %+v, %v", off, lines, got, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
			t.Errorf("key at byte %d: the scan allocated %d bytes", off, alloc)
		}
	}
}

// The file scanned is the file the walk listed: a path swapped since is
// an error, not a clean scan of another file.
func TestScanRefusesASwappedFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "notes.txt")
	testtree.WriteFile(t, dir, "notes.txt", "nothing\n")
	info, _ := os.Stat(p)
	testtree.WriteFile(t, dir, "other.txt", "nothing either\n")
	if err := os.Rename(filepath.Join(dir, "other.txt"), p); err != nil {
		t.Fatal(err)
	}
	f := File{Path: "notes.txt", Info: info}
	if _, err := fileSecret(context.Background(), dir, f, make([]byte, scanBufSize)); !errors.Is(err, hashcache.ErrChanged) {
		t.Errorf("got %v, want ErrChanged", err)
	}
}

// Many files with credentials (a vendored library's test keys, say) are
// told in full up to a few, then counted in one problem naming them all.
func TestManySecretsAreCounted(t *testing.T) {
	dir := t.TempDir()
	for i := range 25 {
		testtree.WriteFile(t, dir, fmt.Sprintf("keys/k%02d.pem", i), string(testKeys()["ec-sec1"]))
	}
	_, err := Walk(context.Background(), dir, Options{SkipFiles: []string{"^$"}, SkipFilesSource: "app.yaml"}, nil)
	var e *Error
	if !errors.As(err, &e) || len(e.Problems) != maxSecretProblems+1 {
		t.Fatalf("got %v; want %d problems", err, maxSecretProblems+1)
	}
	last := e.Problems[maxSecretProblems]
	if last.Kind != ProblemSecret || len(last.Files) != 25-maxSecretProblems || last.Files[0].Path != "keys/k10.pem" ||
		!strings.Contains(last.Message, "15 more files") {
		t.Errorf("the rest: %+v", last)
	}
}

// TestSSHKeyShapes: OpenSSH keys of every type, plain and encrypted, and a
// DSA key are found, each named for what it is.
func TestSSHKeyShapes(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	type keyCase struct {
		b    *pem.Block
		kind string
	}
	var cases []keyCase
	for _, k := range []crypto.PrivateKey{rsaKey, ec256, ec384, edKey} {
		plain, err := ssh.MarshalPrivateKey(k, "deploy@example")
		if err != nil {
			t.Fatal(err)
		}
		locked, err := ssh.MarshalPrivateKeyWithPassphrase(k, "deploy@example", []byte("secret"))
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, keyCase{plain, "an SSH private key"}, keyCase{locked, "an encrypted SSH private key"})
	}
	dsaDER, _ := asn1.Marshal(struct {
		Version       int
		P, Q, G, Y, X *big.Int
	}{0, big.NewInt(23), big.NewInt(11), big.NewInt(4), big.NewInt(8), big.NewInt(3)})
	cases = append(cases, keyCase{&pem.Block{Type: "DSA PRIVATE KEY", Bytes: dsaDER}, "an SSH private key"})
	for i, c := range cases {
		kind, ok := pemKeyKind(c.b)
		if !ok || kind != c.kind {
			t.Errorf("case %d (%s): pemKeyKind = %q, %v; want %q, true", i, c.b.Type, kind, ok, c.kind)
		}
		// Cut short, it is no key.
		if _, ok := pemKeyKind(&pem.Block{Type: c.b.Type, Bytes: c.b.Bytes[:len(c.b.Bytes)/2]}); ok {
			t.Errorf("case %d (%s) cut in half still counts as a key", i, c.b.Type)
		}
	}
}

// TestSecretsToldInFileOrder: the guard reads files with several workers
// (one per CPU), yet tells what it finds in file order, every time, as one
// reader would.
func TestSecretsToldInFileOrder(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	dir := t.TempDir()
	var want []string
	for i := range 40 * secretFilesPerWorker / 10 {
		p := fmt.Sprintf("pkg%02d/m%04d.py", i%7, i)
		body := fmt.Sprintf("# module %d\nx = %d\n", i, i)
		if i%29 == 5 {
			body = string(testKeys()["ec-sec1"])
			want = append(want, p)
		}
		testtree.WriteFile(t, dir, p, body)
	}
	slices.Sort(want)
	if len(want) > maxSecretProblems || len(want) < 3 {
		t.Fatalf("%d secrets planted: the test wants each told alone, several", len(want))
	}
	for run := range 5 {
		_, err := Walk(context.Background(), dir, Options{SkipFiles: []string{"^$"}, SkipFilesSource: "app.yaml"}, nil)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("run %d: got %v, want the secrets", run, err)
		}
		var got []string
		for _, p := range e.Problems {
			if p.Kind == ProblemSecret {
				got = append(got, p.Path)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("run %d: secrets told %q, want %q", run, got, want)
		}
	}
}
