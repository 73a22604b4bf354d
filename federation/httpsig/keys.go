package httpsig

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// PublicKey is a resolved verification key.
type PublicKey struct {
	// ID is the key's id (for ActivityPub, usually "<actor>#main-key").
	ID string
	// Owner is the actor the key belongs to (publicKey.owner, or a Multikey's
	// controller). The inbox must check that it is the activity's actor.
	Owner string
	// Key is *rsa.PublicKey, ed25519.PublicKey or *ecdsa.PublicKey; []byte is
	// accepted as an HMAC secret for RFC 9421 hmac-sha256 only.
	Key crypto.PublicKey
}

// RSAKeyBits is the size of keys made by GenerateRSAKey (what Mastodon uses).
const RSAKeyBits = 2048

// GenerateRSAKey returns a new RSA-2048 private key.
func GenerateRSAKey() (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, RSAKeyBits)
	if err != nil {
		return nil, fmt.Errorf("httpsig: generate RSA key: %w", err)
	}
	return k, nil
}

// EncodePublicKeyPEM encodes pub as an SPKI "PUBLIC KEY" PEM block, the form
// ActivityPub's publicKeyPem carries.
func EncodePublicKeyPEM(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("httpsig: encode public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// EncodePrivateKeyPEM encodes key as a PKCS#8 "PRIVATE KEY" PEM block.
func EncodePrivateKeyPEM(key crypto.Signer) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", fmt.Errorf("httpsig: encode private key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

// ParsePublicKeyPEM parses the first PEM block of data: SPKI "PUBLIC KEY"
// (RSA, ECDSA or Ed25519) or PKCS#1 "RSA PUBLIC KEY".
func ParsePublicKeyPEM(data []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("httpsig: no PEM block in public key")
	}
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("httpsig: parse SPKI public key: %w", err)
		}
		return k, nil
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("httpsig: parse PKCS#1 public key: %w", err)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("httpsig: unsupported PEM block %q for a public key", block.Type)
	}
}

// ParsePrivateKeyPEM parses the first PEM block of data: PKCS#8 "PRIVATE
// KEY", PKCS#1 "RSA PRIVATE KEY" or SEC1 "EC PRIVATE KEY".
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("httpsig: no PEM block in private key")
	}
	var (
		k   any
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("httpsig: unsupported PEM block %q for a private key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("httpsig: parse private key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("httpsig: private key of type %T cannot sign", k)
	}
	return s, nil
}

// PublicKeyFromDocument extracts the key with id keyID from a JSON-LD
// document: an actor with a publicKey object or array (id, owner,
// publicKeyPem), an actor with FEP-521a assertionMethod Multikey entries
// (id, controller, publicKeyMultibase; Ed25519 only), or a bare
// CryptographicKey document (id, owner, publicKeyPem at the top level).
//
// When no key has id keyID but keyID is the document's own id (a sender that
// uses its actor URL as keyId) and the document has exactly one key, that key
// is returned. A key embedded without owner/controller is owned by the
// document. When the document is not the owner's, the caller must confirm
// that the owner's actor document lists the same key before trusting Owner.
// Every failure wraps ErrKeyNotFound.
func PublicKeyFromDocument(doc []byte, keyID string) (PublicKey, error) {
	var root map[string]any
	dec := json.NewDecoder(bytes.NewReader(doc))
	if err := dec.Decode(&root); err != nil {
		return PublicKey{}, fail(ErrKeyNotFound, "key document is not a JSON object: %v", err)
	}
	docID, _ := root["id"].(string)
	type candidate struct {
		id, owner, pemText, multibase string
	}
	var cands []candidate
	add := func(m map[string]any, ownerField string) {
		c := candidate{}
		c.id, _ = m["id"].(string)
		c.owner, _ = m[ownerField].(string)
		c.pemText, _ = m["publicKeyPem"].(string)
		c.multibase, _ = m["publicKeyMultibase"].(string)
		if c.owner == "" {
			c.owner = docID
		}
		if c.pemText != "" || c.multibase != "" {
			cands = append(cands, c)
		}
	}
	if _, ok := root["publicKeyPem"]; ok {
		add(root, "owner")
	}
	for _, m := range objects(root["publicKey"]) {
		add(m, "owner")
	}
	for _, m := range objects(root["assertionMethod"]) {
		if t, _ := m["type"].(string); t == "Multikey" || t == "" {
			add(m, "controller")
		}
	}
	if len(cands) == 0 {
		return PublicKey{}, fail(ErrKeyNotFound, "document %q has no public key", docID)
	}
	pick := -1
	for i, c := range cands {
		if keyID == "" || c.id == keyID {
			pick = i
			break
		}
	}
	if pick < 0 && keyID == docID && len(cands) == 1 {
		pick = 0
	}
	if pick < 0 {
		return PublicKey{}, fail(ErrKeyNotFound, "document %q has no key %q", docID, keyID)
	}
	c := cands[pick]
	var (
		key crypto.PublicKey
		err error
	)
	if c.pemText != "" {
		key, err = ParsePublicKeyPEM([]byte(c.pemText))
	} else {
		key, err = ParseMultibaseKey(c.multibase)
	}
	if err != nil {
		return PublicKey{}, fail(ErrKeyNotFound, "key %q: %w", c.id, err)
	}
	return PublicKey{ID: c.id, Owner: c.owner, Key: key}, nil
}

// objects returns v as a list of JSON objects (v may be one object or an
// array); anything else (such as a bare URL reference) is skipped.
func objects(v any) []map[string]any {
	switch t := v.(type) {
	case map[string]any:
		return []map[string]any{t}
	case []any:
		var out []map[string]any
		for _, e := range t {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

// multicodecEd25519 is the varint-encoded multicodec prefix of an Ed25519
// public key (0xed).
var multicodecEd25519 = []byte{0xed, 0x01}

// EncodeMultibaseEd25519 encodes pub as a FEP-521a publicKeyMultibase value:
// "z" + base58btc(0xed 0x01 || key).
func EncodeMultibaseEd25519(pub ed25519.PublicKey) string {
	return "z" + base58Encode(append(append([]byte{}, multicodecEd25519...), pub...))
}

// ParseMultibaseKey decodes a FEP-521a publicKeyMultibase value. Only
// base58btc ("z…") Ed25519 keys are supported.
func ParseMultibaseKey(s string) (ed25519.PublicKey, error) {
	if !strings.HasPrefix(s, "z") {
		return nil, errors.New("httpsig: multibase value is not base58btc (z…)")
	}
	raw, err := base58Decode(s[1:])
	if err != nil {
		return nil, err
	}
	if len(raw) != len(multicodecEd25519)+ed25519.PublicKeySize || !bytes.HasPrefix(raw, multicodecEd25519) {
		return nil, errors.New("httpsig: multibase key is not an Ed25519 public key")
	}
	return ed25519.PublicKey(raw[len(multicodecEd25519):]), nil
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

func base58Encode(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	n := new(big.Int).SetBytes(b)
	radix, mod := big.NewInt(58), new(big.Int)
	var out []byte
	for n.Sign() > 0 {
		n.DivMod(n, radix, mod)
		out = append(out, base58Alphabet[mod.Int64()])
	}
	for i := 0; i < zeros; i++ {
		out = append(out, '1')
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

func base58Decode(s string) ([]byte, error) {
	if s == "" || len(s) > 256 {
		return nil, errors.New("httpsig: bad base58 length")
	}
	n, radix := new(big.Int), big.NewInt(58)
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(base58Alphabet, s[i])
		if d < 0 {
			return nil, fmt.Errorf("httpsig: invalid base58 character %q", s[i])
		}
		n.Mul(n, radix)
		n.Add(n, big.NewInt(int64(d)))
	}
	return append(make([]byte, zeros), n.Bytes()...), nil
}

// maxRSABits bounds the size of RSA keys we verify with: a remote actor
// chooses its key, and verification cost grows with the square of its size.
const maxRSABits = 8192

// usableKey reports whether k is a well-formed key of a supported type
// (so that no verification routine can trip over it).
func usableKey(k crypto.PublicKey) bool {
	switch t := k.(type) {
	case *rsa.PublicKey:
		return t != nil && t.N != nil && t.N.Sign() > 0 && t.E > 1 && t.N.BitLen() <= maxRSABits
	case ed25519.PublicKey:
		return len(t) == ed25519.PublicKeySize
	case *ecdsa.PublicKey:
		return t != nil && t.Curve != nil && t.X != nil && t.Y != nil
	case []byte:
		return len(t) > 0
	}
	return false
}

// keyKind names a key's type for error messages.
func keyKind(k crypto.PublicKey) string {
	if !usableKey(k) {
		return fmt.Sprintf("unusable %T", k)
	}
	switch t := k.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", t.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519"
	case *ecdsa.PublicKey:
		return "ECDSA " + t.Curve.Params().Name
	case []byte:
		return "HMAC secret"
	}
	return fmt.Sprintf("%T", k)
}
