package pii

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestVaultSealOpen(t *testing.T) {
	v, err := ParseKeys(NewKeySpec("a"))
	if err != nil {
		t.Fatal(err)
	}
	s1, err := v.Seal("phone", "13800000001")
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := v.Seal("phone", "13800000001")
	if s1 == s2 {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	if strings.Contains(s1, "13800000001") || !strings.HasPrefix(s1, "a.") {
		t.Errorf("sealed = %q", s1)
	}
	if got, err := v.Open("phone", s1); err != nil || got != "13800000001" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := v.Open("id_number", s1); !errors.Is(err, ErrUnreadable) {
		t.Errorf("opened under another field: %v", err)
	}
	tampered := s1[:len(s1)-2] + "AA"
	if _, err := v.Open("phone", tampered); !errors.Is(err, ErrUnreadable) {
		t.Errorf("tampered value opened: %v", err)
	}
	if s, _ := v.Seal("phone", ""); s != "" {
		t.Errorf("empty sealed to %q", s)
	}
}

func TestVaultRotation(t *testing.T) {
	oldSpec := NewKeySpec("1")
	old, _ := ParseKeys(oldSpec)
	sealed, _ := old.Seal("birthday", "1990-03-07")
	idxOld := old.Index("phone_tail", "0001")

	ring, err := ParseKeys(NewKeySpec("2") + "," + oldSpec)
	if err != nil {
		t.Fatal(err)
	}
	if ring.CurrentKeyID() != "2" {
		t.Fatalf("current = %s", ring.CurrentKeyID())
	}
	if got, err := ring.Open("birthday", sealed); err != nil || got != "1990-03-07" {
		t.Fatalf("old value after rotation: %q %v", got, err)
	}
	if s, _ := ring.Seal("birthday", "x"); SealedWith(s) != "2" {
		t.Errorf("new values sealed with %s", SealedWith(s))
	}
	idx := ring.Indexes("phone_tail", "0001")
	if len(idx) != 2 || idx[1] != idxOld || idx[0] == idxOld {
		t.Errorf("indexes %v, old %s", idx, idxOld)
	}
	if !ring.Knows(old.Check()) || old.Knows(ring.Check()) {
		t.Error("key check")
	}
	other, _ := ParseKeys(NewKeySpec("1"))
	if _, err := other.Open("birthday", sealed); !errors.Is(err, ErrUnreadable) {
		t.Errorf("a different key with the same id opened the value: %v", err)
	}
}

func TestParseKeysRejects(t *testing.T) {
	for _, bad := range []string{"", "1:abc", "1:" + strings.Repeat("A", 44) + ",1:" + strings.Repeat("A", 44), "bad id!:" + strings.Repeat("A", 44)} {
		if _, err := ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%q) accepted", bad)
		}
	}
}

func TestKeyFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "pii.key")
	v1, err := LoadOrCreateKeyFile(p)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := LoadOrCreateKeyFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := v1.Seal("phone", "123")
	if got, err := v2.Open("phone", s); err != nil || got != "123" {
		t.Fatalf("reloaded key: %q %v", got, err)
	}
}
