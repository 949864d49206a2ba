// Command gen writes the 业扩 process templates of internal/flow/templates:
// it holds their content (steps, forms, texts for customers, deadlines) and
// lays out their diagrams, rows left to right with loops drawn back over
// the top. Run it through go generate in internal/flow/templates; a test
// fails when the committed files differ from what it writes.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	dir := flag.String("dir", ".", "directory to write the .bpmn files into")
	flag.Parse()
	for name, data := range files() {
		if err := os.WriteFile(filepath.Join(*dir, name), data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}

// files renders every template, by file name.
func files() map[string][]byte {
	out := map[string][]byte{}
	for _, p := range []*process{gaoyaXinzhuang(), diyaFeijumin(), jumin()} {
		for _, d := range p.Deadlines {
			p.Flows = append(p.Flows, link(d.Boundary.ID, d.Task.ID), link(d.Task.ID, d.End.ID))
		}
		out[p.File] = render(p)
	}
	return out
}

func concat(parts ...[]flow) []flow {
	var out []flow
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
