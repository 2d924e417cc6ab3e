package journal

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// Signature is the object stored beside a signed segment: an ed25519 signature of the segment's
// SHA-256 digest (the 32 raw bytes).
type Signature struct {
	Segment string `json:"segment"`
	SHA256  string `json:"sha256"`
	// KeyID is the first 16 hex digits of the SHA-256 of the public key.
	KeyID     string `json:"keyID"`
	Signature string `json:"signature"`
}

// KeyID names a public key in signatures and messages.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

func sign(key ed25519.PrivateKey, name, digest string) ([]byte, error) {
	raw, err := hex.DecodeString(digest)
	if err != nil {
		return nil, err
	}
	s := Signature{
		Segment: name, SHA256: digest,
		KeyID:     KeyID(key.Public().(ed25519.PublicKey)),
		Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(key, raw)),
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// checkSignature verifies a signature object against a segment's digest.
func checkSignature(pub ed25519.PublicKey, name, digest string, b []byte) error {
	var s Signature
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("the signature object is not valid JSON: %w", err)
	}
	if s.Segment != name {
		return fmt.Errorf("the signature is for segment %s", s.Segment)
	}
	if s.SHA256 != digest {
		return fmt.Errorf("the signature is for SHA-256 %s, the segment's is %s", s.SHA256, digest)
	}
	if s.KeyID != KeyID(pub) {
		return fmt.Errorf("signed with key %s, not the given key %s", s.KeyID, KeyID(pub))
	}
	sig, err := base64.StdEncoding.DecodeString(s.Signature)
	if err != nil {
		return fmt.Errorf("the signature is not base64: %w", err)
	}
	raw, err := hex.DecodeString(digest)
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, raw, sig) {
		return errors.New("the signature does not verify with the given key")
	}
	return nil
}

// LoadSigningKey reads an ed25519 private key from a PEM file (PKCS #8, "PRIVATE KEY", as
// `openssl genpkey -algorithm ed25519` writes), as mounted from a Secret into the pod.
func LoadSigningKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("signing key %s: want a PEM \"PRIVATE KEY\" block (PKCS #8 ed25519)", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s: a %T, want ed25519", path, k)
	}
	return ek, nil
}

// LoadPublicKey reads an ed25519 public key from a PEM file ("PUBLIC KEY", PKIX); a private key
// file is accepted too and its public half used.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("public key %s: no PEM block", path)
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := LoadSigningKey(path)
		if err != nil {
			return nil, err
		}
		return k.Public().(ed25519.PublicKey), nil
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key %s: %w", path, err)
		}
		ek, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key %s: a %T, want ed25519", path, k)
		}
		return ek, nil
	default:
		return nil, fmt.Errorf("public key %s: PEM block %q, want \"PUBLIC KEY\"", path, block.Type)
	}
}

// EncodeKeys returns PEM encodings of an ed25519 key pair (for tests and `make demo`).
func EncodeKeys(key ed25519.PrivateKey) (private, public []byte, err error) {
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), nil
}
