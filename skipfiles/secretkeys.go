package skipfiles

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"

	"github.com/appcfg/appcfg/internal/lazyre"
	"golang.org/x/crypto/ssh"
)

// A PEM header alone proves nothing: libraries that read keys hold it as a
// string constant. A key counts only when the block after it decodes and
// parses as one, so the guard needs the whole block in view.
var pemBegin = lazyre.New(`-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----`)

// maxPEMBlock bounds how far after a BEGIN line its END is looked for; an
// RSA key of 16384 bits takes about 12 KiB of PEM.
const maxPEMBlock = 16 << 10

// pemKeyAt decides whether the BEGIN line at the start of text opens a
// private key, and says which kind. prev is the byte before the BEGIN line:
// a quote means the block sits in a string literal of source code, maybe
// with "\n" escapes or split over several concatenated literals.
func pemKeyAt(text []byte, prev byte) (string, bool) {
	m := pemBegin.FindSubmatch(text[:min(len(text), 64)])
	if m == nil || !bytes.HasPrefix(text, m[0]) {
		return "", false
	}
	typ := string(m[1]) + "PRIVATE KEY" + string(m[2])
	text = text[len(m[0]):]
	if len(text) > maxPEMBlock {
		text = text[:maxPEMBlock]
	}
	end := bytes.Index(text, []byte("-----END "+typ+"-----"))
	if end < 0 {
		return "", false
	}
	var quote byte
	if prev == '"' || prev == '\'' || prev == '`' {
		quote = prev
	}
	body := pemBody(text[:end], quote)
	if typ == "PGP PRIVATE KEY BLOCK" {
		return "a PGP private key", pgpSecretKey(body)
	}
	block, _ := pem.Decode([]byte("-----BEGIN " + typ + "-----\n" + body + "\n-----END " + typ + "-----\n"))
	if block == nil {
		return "", false
	}
	return pemKeyKind(block)
}

// pemBody turns the text between the BEGIN and END lines into plain PEM
// lines. Inside a string literal (quote set) only what is inside the
// literals counts, so the code that concatenates them drops out; "\n"
// escapes become line breaks either way.
func pemBody(raw []byte, quote byte) string {
	var b strings.Builder
	in := true
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw) && (quote == 0 || in):
			i++
			switch raw[i] {
			case 'n', 'r':
				b.WriteByte('\n')
			default:
				b.WriteByte(raw[i])
			}
		case quote != 0 && c == quote:
			in = !in
		case quote == 0 || in:
			b.WriteByte(c)
		}
	}
	lines := strings.Split(b.String(), "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// pemKeyKind parses a decoded block as the key its type announces: x509
// for PKCS#1, PKCS#8 and SEC 1, x/crypto/ssh for OpenSSH and DSA keys. An
// encrypted key counts when its structure parses: the passphrase may be
// weak, and the file has no business in a deployment either way.
func pemKeyKind(b *pem.Block) (string, bool) {
	if strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
		// Legacy OpenSSL encryption: a cipher named, a whole number of
		// cipher blocks.
		return "an encrypted private key", b.Headers["DEK-Info"] != "" && len(b.Bytes) >= 64 && len(b.Bytes)%8 == 0
	}
	var err error
	switch b.Type {
	case "RSA PRIVATE KEY":
		_, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		return "an RSA private key", err == nil
	case "EC PRIVATE KEY":
		_, err = x509.ParseECPrivateKey(b.Bytes)
		return "an EC private key", err == nil
	case "PRIVATE KEY":
		if _, err = x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
			return "a private key (PKCS#8)", true
		}
		// Algorithms Go does not implement (DSA, Ed448 …) still have
		// the PKCS#8 shape.
		return "a private key (PKCS#8)", pkcs8Shaped(b.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		var k struct {
			Algo pkix.AlgorithmIdentifier
			Data []byte
		}
		rest, err := asn1.Unmarshal(b.Bytes, &k)
		return "an encrypted private key", err == nil && len(rest) == 0 && len(k.Data) >= 16
	case "OPENSSH PRIVATE KEY", "DSA PRIVATE KEY":
		_, err = ssh.ParseRawPrivateKey(pem.EncodeToMemory(b))
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return "an encrypted SSH private key", true
		}
		return "an SSH private key", err == nil
	}
	return "a private key", pkcs8Shaped(b.Bytes)
}

// pkcs8Shaped reports whether der has the outer structure of a PKCS#8
// private key, whatever its algorithm.
func pkcs8Shaped(der []byte) bool {
	var k struct {
		Version int
		Algo    pkix.AlgorithmIdentifier
		Key     []byte
	}
	rest, err := asn1.Unmarshal(der, &k)
	return err == nil && len(rest) == 0 && len(k.Key) >= 16
}

// derKeyKind decides whether a whole binary file is a private key in DER.
func derKeyKind(der []byte) (string, bool) {
	if _, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return "an RSA private key (DER)", true
	}
	if _, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return "a private key (PKCS#8, DER)", true
	}
	if _, err := x509.ParseECPrivateKey(der); err == nil {
		return "an EC private key (DER)", true
	}
	return "", false
}

// pgpSecretKey reports whether an ASCII-armored body holds an OpenPGP
// secret-key packet (tag 5): the armor headers, the blank line and the
// "=" checksum line are dropped, the rest must be base64.
func pgpSecretKey(body string) bool {
	var data strings.Builder
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, ": ") || strings.HasPrefix(l, "=") {
			continue
		}
		data.WriteString(l)
	}
	raw, err := base64.StdEncoding.DecodeString(data.String())
	if err != nil || len(raw) < 32 {
		return false
	}
	tag := raw[0]
	switch {
	case tag&0xC0 == 0xC0: // new packet format: tag in the low six bits
		return tag&0x3F == 5
	case tag&0x80 != 0: // old format: tag in bits 5..2
		return (tag>>2)&0x0F == 5
	}
	return false
}
