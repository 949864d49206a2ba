package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The committed templates must be exactly what the generator writes, so
// nobody edits a file the next go generate would overwrite.
func TestCommittedFilesAreGenerated(t *testing.T) {
	got := files()
	committed, err := filepath.Glob(filepath.Join("..", "*.bpmn"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, path := range committed {
		names = append(names, filepath.Base(path))
	}
	var want []string
	for name := range got {
		want = append(want, name)
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("committed %v, generator writes %v", names, want)
	}
	for name, data := range got {
		disk, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(disk, data) {
			t.Errorf("%s differs from the generator's output: run go generate ./internal/flow/templates", name)
		}
	}
}

// Rendering twice gives the same bytes: map order must not leak into the
// files.
func TestGeneratorIsDeterministic(t *testing.T) {
	a, b := files(), files()
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs between runs", name)
		}
	}
}
