package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/guanjia/guanjia/internal/flow"
)

// cmdFlow runs "guanjia flow validate FILE...": it prints "ok KEY" for each
// file that would deploy, or one line per problem (file: element id and
// reason), and fails when any file has a problem.
func cmdFlow(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 2 || args[0] != "validate" {
		return usageError{"usage: guanjia flow validate FILE..."}
	}
	bad := 0
	for _, file := range args[1:] {
		src, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintf(stdout, "%s: %v\n", file, err)
			bad++
			continue
		}
		key, problems := flow.Validate(src)
		if len(problems) == 0 {
			fmt.Fprintf(stdout, "ok %s\n", key)
			continue
		}
		bad++
		for _, p := range problems {
			fmt.Fprintf(stdout, "%s: %s\n", file, p)
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d files have problems", bad, len(args)-1)
	}
	return nil
}
