package flow

import (
	"context"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/guanjia/guanjia/internal/flow/machine"
)

// StartAtForTest starts an instance at a chosen process and start event.
// The public API starts only a definition's default process; the MIWG
// collaborations (A.4.0, A.4.1) have a second pool the conformance walk
// must run too.
func (e *Engine) StartAtForTest(ctx context.Context, in StartInput, processID, startEventID string) (*Started, error) {
	def, err := e.definitionFor(ctx, in.DefinitionKey, in.Version)
	if err != nil {
		return nil, err
	}
	return e.start(ctx, def, in, "", "", machine.StartOptions{ProcessID: processID, StartEventID: startEventID})
}

// WorkJobForTest runs the service-task worker on one queued job exactly as
// River's worker would, without waiting for River's fetch loop.
func (e *Engine) WorkJobForTest(ctx context.Context, riverID int64, args JobArgs, attempt, maxAttempts int) error {
	w := &jobWorker{e: e}
	return w.Work(ctx, &river.Job[JobArgs]{JobRow: &rivertype.JobRow{ID: riverID, Attempt: attempt, MaxAttempts: maxAttempts, Kind: args.Kind()}, Args: args})
}
