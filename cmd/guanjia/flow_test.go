package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFlowValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.bpmn")
	os.WriteFile(good, []byte("key: visit\nsteps:\n  - id: call\n    name: 回访\n"), 0o600)
	os.WriteFile(bad, []byte(`<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p"><startEvent id="s"/>
<sequenceFlow id="f" sourceRef="s" targetRef="G"/><inclusiveGateway id="G"/></process></definitions>`), 0o600)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"flow", "validate", good}, &out, &out); err != nil || strings.TrimSpace(out.String()) != "ok visit" {
		t.Fatalf("good: %v %q", err, out.String())
	}
	out.Reset()
	err := run(context.Background(), []string{"flow", "validate", good, bad}, &out, &out)
	if err == nil {
		t.Fatal("bad file accepted")
	}
	if !strings.Contains(out.String(), "ok visit") || !strings.Contains(out.String(), bad+": unsupported element bpmn:inclusiveGateway (G)") {
		t.Fatalf("output: %q", out.String())
	}
}
