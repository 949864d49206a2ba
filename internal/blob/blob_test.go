package blob

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/guanjia/guanjia/internal/errs"
)

var png = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)

func TestFSRoundTripAndPolicy(t *testing.T) {
	s, err := NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b, ct, err := Images.Check("photo", bytes.NewReader(png))
	if err != nil || ct != "image/png" {
		t.Fatalf("check: %v %s", err, ct)
	}
	k1, err := s.Put(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := s.Put(ctx, b)
	if k1 != k2 {
		t.Fatal("same content, different keys")
	}
	r, err := s.Open(ctx, k1)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, png) {
		t.Fatal("content changed")
	}
	if _, err := s.Open(ctx, "../../etc/passwd"); errs.CodeOf(err) != errs.ENotFound {
		t.Fatalf("path traversal: %v", err)
	}
	if err := s.Delete(ctx, k1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, k1); errs.CodeOf(err) != errs.ENotFound {
		t.Fatalf("after delete: %v", err)
	}
	if _, _, err := Images.Check("photo", bytes.NewReader([]byte("#!/bin/sh\nrm -rf /"))); errs.CodeOf(err) != errs.EInvalid {
		t.Fatalf("script accepted as image: %v", err)
	}
	small := Policy{MaxBytes: 10, Types: []string{"image/png"}}
	if _, _, err := small.Check("photo", bytes.NewReader(png)); errs.CodeOf(err) != errs.EInvalid {
		t.Fatalf("too large accepted: %v", err)
	}
}
