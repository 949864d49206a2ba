package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindChromium(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "my-chrome")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}

	t.Run("the variable wins", func(t *testing.T) {
		t.Setenv(EnvChromium, fake)
		if got, err := FindChromium(); err != nil || got != fake {
			t.Errorf("FindChromium() = %q, %v; want %q", got, err, fake)
		}
	})
	t.Run("a wrong variable is an error, not a fallback", func(t *testing.T) {
		t.Setenv(EnvChromium, filepath.Join(dir, "missing"))
		if got, err := FindChromium(); err == nil || !strings.Contains(err.Error(), EnvChromium) {
			t.Errorf("FindChromium() = %q, %v; want an error naming %s", got, err, EnvChromium)
		}
	})
	t.Run("none installed", func(t *testing.T) {
		t.Setenv(EnvChromium, "")
		saved := candidates
		t.Cleanup(func() { candidates = saved })
		candidates = []string{filepath.Join(dir, "chromium"), "guanjia-no-such-browser"}
		if got, err := FindChromium(); err == nil || !strings.Contains(err.Error(), "no Chromium found") {
			t.Errorf("FindChromium() = %q, %v; want no Chromium found", got, err)
		}
	})
}

func TestArtifactsDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	t.Setenv(EnvArtifacts, dir)
	got, err := ArtifactsDir()
	if err != nil || got != dir {
		t.Fatalf("ArtifactsDir() = %q, %v; want %q", got, err, dir)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Errorf("%s was not created", dir)
	}

	t.Setenv(EnvArtifacts, "")
	got, err = ArtifactsDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(got), "go.mod")); err != nil {
		t.Errorf("default %s is not at the module root", got)
	}
}
