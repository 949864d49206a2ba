// Package blob stores uploaded files (photos, signatures, documents). The
// Store interface lets an object store replace the default, which keeps
// files under the data folder, addressed by the SHA-256 of their content.
package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/guanjia/guanjia/internal/errs"
)

// Store keeps blobs.
type Store interface {
	// Put stores content and returns its key; the same content gives the
	// same key.
	Put(ctx context.Context, content []byte) (string, error)
	// Open returns the content of key; ENotFound when there is none.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Policy limits what an upload may be.
type Policy struct {
	MaxBytes int64
	Types    []string // accepted MIME types, sniffed from the content
}

// Images is the policy for photos: JPEG, PNG, WebP or GIF up to 10 MiB.
var Images = Policy{MaxBytes: 10 << 20, Types: []string{"image/jpeg", "image/png", "image/webp", "image/gif"}}

// Documents accepts images and PDFs up to 20 MiB.
var Documents = Policy{MaxBytes: 20 << 20, Types: []string{"image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf"}}

// Check reads r under the policy and returns the content and its sniffed
// type. EInvalid "error.upload.too_large" or "error.upload.bad_type" (on
// field) otherwise.
func (p Policy) Check(field string, r io.Reader) ([]byte, string, error) {
	b, err := io.ReadAll(io.LimitReader(r, p.MaxBytes+1))
	if err != nil {
		return nil, "", errs.Invalid(field, "error.body.malformed")
	}
	if int64(len(b)) > p.MaxBytes {
		return nil, "", errs.Invalid(field, "error.upload.too_large")
	}
	if len(b) == 0 {
		return nil, "", errs.Invalid(field, "error.body.empty")
	}
	ct := http.DetectContentType(b)
	if i := strings.Index(ct, ";"); i > 0 {
		ct = ct[:i]
	}
	for _, t := range p.Types {
		if t == ct {
			return b, ct, nil
		}
	}
	return nil, "", errs.Invalid(field, "error.upload.bad_type")
}

// FS stores blobs in a folder, two levels of fan-out deep.
type FS struct{ Root string }

// NewFS returns a store under root, creating it.
func NewFS(root string) (*FS, error) {
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	return &FS{Root: root}, nil
}

func (s *FS) path(key string) (string, error) {
	if len(key) != 64 || strings.Trim(key, "0123456789abcdef") != "" {
		return "", errs.NotFound("error.not_found")
	}
	return filepath.Join(s.Root, key[:2], key[2:4], key), nil
}

// Put writes content atomically (temporary file, fsync, rename).
func (s *FS) Put(_ context.Context, content []byte) (string, error) {
	sum := sha256.Sum256(content)
	key := hex.EncodeToString(sum[:])
	p, _ := s.path(key)
	if _, err := os.Stat(p); err == nil {
		return key, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return "", fmt.Errorf("blob: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".up-*")
	if err != nil {
		return "", fmt.Errorf("blob: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, bytes.NewReader(content)); err != nil {
		tmp.Close()
		return "", fmt.Errorf("blob: write: %w", err)
	}
	// The file must be on disk before the row that names it commits.
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("blob: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return "", fmt.Errorf("blob: %w", err)
	}
	return key, nil
}

// Open opens a stored blob.
func (s *FS) Open(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, errs.NotFound("error.not_found")
	}
	return f, err
}

// Delete removes a blob.
func (s *FS) Delete(_ context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("blob: %w", err)
	}
	return nil
}

// ReadUpload reads an uploaded file from a request: a multipart form's
// field (with the form's other values), or the raw request body (then the
// values come from the query string), checked under the policy. It returns
// the content, its sniffed type and a value reader for the other fields.
func ReadUpload(r *http.Request, field string, p Policy) ([]byte, string, func(string) string, error) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return nil, "", nil, errs.Invalid(field, "error.body.malformed")
		}
		f, _, err := r.FormFile(field)
		if err != nil {
			return nil, "", nil, errs.Invalid(field, "error.field.required")
		}
		defer f.Close()
		b, ct, err := p.Check(field, f)
		return b, ct, r.FormValue, err
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, p.MaxBytes+1))
	if err != nil || len(b) == 0 {
		return nil, "", nil, errs.Invalid("body", "error.body.empty")
	}
	b, ct, err := p.Check(field, bytes.NewReader(b))
	return b, ct, r.URL.Query().Get, err
}
