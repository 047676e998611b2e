package skipfiles

import (
	"encoding/asn1"
	"encoding/binary"
	"math/big"
	"strings"
)

// The secret guard reads OpenSSH and DSA private keys itself rather than
// through golang.org/x/crypto/ssh: that package (with its ciphers, bcrypt
// and curve25519) was linked into every appcfg run and initialised at
// start-up for these few checks alone (docs/performance.md, start-up).
// What is checked is the shape of the format, as ssh.ParseRawPrivateKey
// reads it: a file with that shape is a key, or made to pass for one, and
// has no business in a deployment either way.

// opensshKeyKind reads the body of an OPENSSH PRIVATE KEY block
// (PROTOCOL.key of OpenSSH): the magic, cipher and KDF names, KDF options,
// exactly one key, its public key, then the private section. An encrypted
// key counts when its public key parses; a plain one when its check
// integers match, its key type is known, its fields are there and its
// padding is OpenSSH's 1, 2, 3 ….
func opensshKeyKind(b []byte) (encrypted, ok bool) {
	const magic = "openssh-key-v1\x00"
	if !strings.HasPrefix(string(b), magic) {
		return false, false
	}
	r := sshReader{b: b[len(magic):], ok: true}
	cipher, kdf, _ := r.str(), r.str(), r.str()
	n := r.u32()
	pub, priv := r.str(), r.str()
	// Bytes after the private section are let be, as ssh does.
	if !r.ok || n != 1 {
		return false, false
	}
	if cipher != "none" || kdf != "none" {
		return true, sshPublicKeyShaped(pub)
	}
	p := sshReader{b: []byte(priv), ok: true}
	check1, check2 := p.u32(), p.u32()
	typ := p.str()
	if !p.ok || check1 != check2 {
		return false, false
	}
	switch typ {
	case "ssh-rsa":
		for range 6 { // n, e, d, iqmp, p, q
			p.str()
		}
	case "ssh-dss":
		for range 5 { // p, q, g, y, x
			p.str()
		}
	case "ssh-ed25519":
		pk, sk := p.str(), p.str()
		p.ok = p.ok && len(pk) == 32 && len(sk) == 64
	case "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521":
		curve := p.str()
		p.str() // the public point
		p.str() // the private scalar
		p.ok = p.ok && curve == strings.TrimPrefix(typ, "ecdsa-sha2-")
	default:
		return false, false
	}
	p.str() // the comment
	if !p.ok {
		return false, false
	}
	for i, c := range p.b { // the padding
		if int(c) != i+1 {
			return false, false
		}
	}
	return false, true
}

// sshPublicKeyShaped reports whether b starts as an SSH public key of a
// known type.
func sshPublicKeyShaped(b string) bool {
	r := sshReader{b: []byte(b), ok: true}
	typ := r.str()
	if !r.ok || len(r.b) == 0 {
		return false
	}
	switch strings.TrimSuffix(typ, "-cert-v01@openssh.com") {
	case "ssh-rsa", "ssh-dss", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
		"ecdsa-sha2-nistp521", "sk-ecdsa-sha2-nistp256@openssh.com", "sk-ssh-ed25519@openssh.com":
		return true
	}
	return false
}

// sshReader reads the SSH wire format: big-endian uint32s and strings
// prefixed by their uint32 length. Once a read runs past the end, ok is
// false and every later read returns zero.
type sshReader struct {
	b  []byte
	ok bool
}

func (r *sshReader) u32() uint32 {
	if !r.ok || len(r.b) < 4 {
		r.ok = false
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *sshReader) str() string {
	n := r.u32()
	if !r.ok || uint64(n) > uint64(len(r.b)) {
		r.ok = false
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// dsaKeyShaped reports whether der is OpenSSL's DSA private key, as
// ssh.ParseDSAPrivateKey reads it: a version and five integers, nothing
// after.
func dsaKeyShaped(der []byte) bool {
	var k struct {
		Version       int
		P, Q, G, Y, X *big.Int
	}
	rest, err := asn1.Unmarshal(der, &k)
	return err == nil && len(rest) == 0
}
