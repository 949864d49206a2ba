package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Vault encrypts personal data at rest and computes blind indexes for the
// few searches that must work on encrypted values (a phone's last four
// digits, an ID number, a birthday's month and day).
//
// # Keys
//
// A vault holds a key ring: one or more 32-byte master keys, each with a
// short id. The first key of the ring is current: it seals every new value.
// The others only open values sealed before a rotation. From each master key
// two sub-keys are derived with HKDF-SHA256, one for AES-256-GCM and one for
// the HMAC-SHA256 blind indexes, so the index key never encrypts anything.
//
// A sealed value is "<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>". The
// GCM additional data is the field name ("phone", "id_number", …): a value
// copied into another field does not open.
//
// # Rotation
//
// To rotate, put a new key first and keep the old one after it
// (GUANJIA_PII_KEY="2:<new>,1:<old>"), restart, and run
// "guanjia pii rekey": it re-encrypts every sealed value and recomputes every
// blind index under the new key, in batches, while the system runs.
// Searches compute the index under every key of the ring, so they keep
// finding rows not yet rekeyed. When rekey reports nothing left under the
// old key, drop it from the ring. Never drop a key that still seals data:
// those values become unreadable (which is, deliberately, also how a whole
// database's personal data can be destroyed at once).
type Vault struct {
	ring []vaultKey // ring[0] is current
}

type vaultKey struct {
	id    string
	aead  cipher.AEAD
	index []byte
}

// KeySize is the length of a master key in bytes.
const KeySize = 32

var keyIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,16}$`)

// ParseKeys reads a key ring: "id:base64key[,id:base64key…]", the current
// key first. A bare base64 key is accepted as key id "1". It returns an
// error for a malformed ring, a key that is not 32 bytes, or a repeated id.
func ParseKeys(spec string) (*Vault, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("pii: empty key")
	}
	v := &Vault{}
	seen := map[string]bool{}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		id, b64, ok := strings.Cut(part, ":")
		if !ok {
			id, b64 = "1", part
		}
		if !keyIDRe.MatchString(id) {
			return nil, fmt.Errorf("pii: key id %q: use 1 to 16 letters, digits, - or _", id)
		}
		if seen[id] {
			return nil, fmt.Errorf("pii: key id %q given twice", id)
		}
		seen[id] = true
		raw, err := decodeKey(b64)
		if err != nil {
			return nil, fmt.Errorf("pii: key %q: %w", id, err)
		}
		k, err := deriveKey(id, raw)
		if err != nil {
			return nil, err
		}
		v.ring = append(v.ring, k)
	}
	return v, nil
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("want %d bytes, got %d", KeySize, len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

func deriveKey(id string, master []byte) (vaultKey, error) {
	encKey, err := hkdf.Key(sha256.New, master, nil, "guanjia pii aes-256-gcm", 32)
	if err != nil {
		return vaultKey{}, err
	}
	idxKey, err := hkdf.Key(sha256.New, master, nil, "guanjia pii blind index", 32)
	if err != nil {
		return vaultKey{}, err
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return vaultKey{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return vaultKey{}, err
	}
	return vaultKey{id: id, aead: aead, index: idxKey}, nil
}

// NewKeySpec returns a fresh random key ring of one key with the given id.
func NewKeySpec(id string) string {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		panic(err) // the system's random source failing is not recoverable
	}
	return id + ":" + base64.StdEncoding.EncodeToString(b)
}

// LoadOrCreateKeyFile reads a key ring from path, creating the file with a
// new random key (mode 0600) when it does not exist. It is for single-node
// installations and tests; several instances must share one configured key.
func LoadOrCreateKeyFile(path string) (*Vault, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("pii: %w", err)
		}
		spec := NewKeySpec("1")
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("pii: create key file: %w", err)
		}
		if _, err := f.WriteString(spec + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("pii: write key file: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("pii: write key file: %w", err)
		}
		return ParseKeys(spec)
	}
	if err != nil {
		return nil, fmt.Errorf("pii: read key file: %w", err)
	}
	return ParseKeys(string(b))
}

// CurrentKeyID returns the id of the key that seals new values.
func (v *Vault) CurrentKeyID() string { return v.ring[0].id }

// KeyIDs lists the ids of the ring, the current first.
func (v *Vault) KeyIDs() []string {
	out := make([]string, len(v.ring))
	for i, k := range v.ring {
		out[i] = k.id
	}
	return out
}

// Seal encrypts plain for field with the current key. The empty string
// stays empty (nothing to protect, and "no value" stays visible as such).
func (v *Vault) Seal(field, plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	k := v.ring[0]
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("pii: nonce: %w", err)
	}
	out := k.aead.Seal(nonce, nonce, []byte(plain), []byte(field))
	return k.id + "." + base64.RawURLEncoding.EncodeToString(out), nil
}

// ErrUnreadable says a sealed value cannot be opened: its key is not in the
// ring, or the value was altered or belongs to another field.
var ErrUnreadable = errors.New("pii: sealed value cannot be opened")

// Open decrypts a value sealed for field. The empty string opens to itself.
// It returns ErrUnreadable (wrapped) when the key is missing or the value
// does not authenticate.
func (v *Vault) Open(field, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	id, b64, ok := strings.Cut(sealed, ".")
	if !ok {
		return "", fmt.Errorf("%w: malformed", ErrUnreadable)
	}
	k, ok := v.key(id)
	if !ok {
		return "", fmt.Errorf("%w: key %q is not in the ring", ErrUnreadable, id)
	}
	raw, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil || len(raw) < k.aead.NonceSize()+k.aead.Overhead() {
		return "", fmt.Errorf("%w: malformed", ErrUnreadable)
	}
	ns := k.aead.NonceSize()
	plain, err := k.aead.Open(nil, raw[:ns], raw[ns:], []byte(field))
	if err != nil {
		return "", fmt.Errorf("%w: %s does not authenticate", ErrUnreadable, field)
	}
	return string(plain), nil
}

// SealedWith returns the key id a sealed value names ("" for none).
func SealedWith(sealed string) string {
	id, _, ok := strings.Cut(sealed, ".")
	if !ok {
		return ""
	}
	return id
}

func (v *Vault) key(id string) (vaultKey, bool) {
	for _, k := range v.ring {
		if k.id == id {
			return k, true
		}
	}
	return vaultKey{}, false
}

// Index returns the blind index of value for field under the current key:
// a keyed hash that lets equal values be found without storing them. An
// empty value has the empty index.
func (v *Vault) Index(field, value string) string {
	if value == "" {
		return ""
	}
	return indexWith(v.ring[0], field, value)
}

// Indexes returns the blind index of value under every key of the ring,
// the current first: what a search compares with while a rotation is under
// way.
func (v *Vault) Indexes(field, value string) []string {
	if value == "" {
		return nil
	}
	out := make([]string, len(v.ring))
	for i, k := range v.ring {
		out[i] = indexWith(k, field, value)
	}
	return out
}

func indexWith(k vaultKey, field, value string) string {
	m := hmac.New(sha256.New, k.index)
	m.Write([]byte(field))
	m.Write([]byte{0})
	m.Write([]byte(value))
	// 128 bits: collisions are out of reach; the key id keeps indexes of
	// different keys apart, so a rekey can tell which rows it has done.
	return k.id + "." + hex.EncodeToString(m.Sum(nil)[:16])
}

// Check returns a value derived from the current key that reveals nothing
// about it; stored once, it lets a start with the wrong key fail loudly
// instead of sealing new data under a key that cannot open the old.
func (v *Vault) Check() string { return indexWith(v.ring[0], "key-check", "guanjia") }

// CheckOf returns the check value of the ring's key id, and whether the
// ring has that key.
func (v *Vault) CheckOf(id string) (string, bool) {
	k, ok := v.key(id)
	if !ok {
		return "", false
	}
	return indexWith(k, "key-check", "guanjia"), true
}

// Knows reports whether check was made by a key of the ring.
func (v *Vault) Knows(check string) bool {
	for _, k := range v.ring {
		if hmac.Equal([]byte(indexWith(k, "key-check", "guanjia")), []byte(check)) {
			return true
		}
	}
	return false
}
