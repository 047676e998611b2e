package keyutil

import (
	"encoding/pem"
	"errors"
	"strings"
)

const header = "-----BEGIN EC PRIVATE KEY-----"

// Decode reads the first EC key block of text.
func Decode(text string) (*pem.Block, error) {
	i := strings.Index(text, header)
	if i < 0 {
		return nil, errors.New("no \"-----BEGIN EC PRIVATE KEY-----\" line")
	}
	b, _ := pem.Decode([]byte(text[i:]))
	if b == nil || b.Type != "EC PRIVATE KEY" {
		return nil, errors.New("not an EC PRIVATE KEY block")
	}
	return b, nil
}
