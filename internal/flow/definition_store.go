package flow

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/flow/bpmn"
	"github.com/guanjia/guanjia/internal/flow/model"
	"github.com/guanjia/guanjia/internal/flow/yamldef"
)

// Format of a definition source.
const (
	FormatBPMN = "bpmn"
	FormatYAML = "yaml"
)

// DetectFormat tells BPMN XML from the YAML form by the first non-blank byte.
func DetectFormat(src []byte) string {
	if t := bytes.TrimSpace(src); len(t) > 0 && t[0] == '<' {
		return FormatBPMN
	}
	return FormatYAML
}

// Compile parses and validates a source without deploying it. It returns
// model.Problems (every problem, with element ids) when the definition
// cannot run. knownJobType nil accepts every service-task type.
func Compile(src []byte, knownJobType func(string) bool) (*model.Definition, string, error) {
	format := DetectFormat(src)
	var def *model.Definition
	var err error
	if format == FormatBPMN {
		def, err = bpmn.Parse(src, bpmn.Options{KnownJobType: knownJobType})
	} else {
		def, err = yamldef.Parse(src, knownJobType)
	}
	return def, format, err
}

// problemsError turns parser problems into a 422 listing each problem.
func problemsError(err error) error {
	var ps model.Problems
	if errors.As(err, &ps) {
		lines := make([]string, len(ps))
		for i, p := range ps {
			lines[i] = p.String()
		}
		return errs.Newf(errs.EInvalid, "error.flow.invalid_definition", "count", len(lines), "problems", lines)
	}
	return errs.Newf(errs.EInvalid, "error.flow.invalid_definition", "count", 1, "problems", []string{err.Error()})
}

// Deploy compiles src (BPMN XML or YAML) and stores it as the next version
// of its key. Nothing is stored when any problem is found: it returns
// EInvalid "error.flow.invalid_definition" with every problem in the
// error's "problems" argument. The caller needs flow.design.
func (e *Engine) Deploy(ctx context.Context, src []byte) (*Definition, error) {
	p := auth.FromContext(ctx)
	if !p.CanAnywhere(auth.PermFlowDesign) {
		return nil, errs.Forbidden()
	}
	if len(src) > 4<<20 {
		return nil, errs.Invalid("body", "error.body.too_large")
	}
	return e.deploy(ctx, src, "")
}

// DeploySystem deploys without a caller (shipped templates, tests).
func (e *Engine) DeploySystem(ctx context.Context, src []byte) (*Definition, error) {
	return e.deploy(ctx, src, "")
}

func (e *Engine) deploy(ctx context.Context, src []byte, nodePath string) (*Definition, error) {
	m, format, err := Compile(src, e.knownJobType)
	if err != nil {
		return nil, problemsError(err)
	}
	d := &Definition{Key: m.Key, Name: m.Name, Format: format, NodePath: nodePath, Source: string(src), Model: m}
	if d.Name == "" {
		d.Name = d.Key
	}
	err = e.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var maxV sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM flow_definitions WHERE key = ?`, d.Key).Scan(&maxV); err != nil {
			return fmt.Errorf("flow: deploy %s: %w", d.Key, err)
		}
		d.Version = int(maxV.Int64) + 1
		m.Version = d.Version
		d.DeployedAt = tx.Now
		actor := audit.ActorFrom(ctx)
		if actor.ID != 0 {
			d.DeployedBy = &actor.ID
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO flow_definitions (key, version, name, format, source, node_path, deployed_by, deployed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, d.Key, d.Version, d.Name, format, d.Source, nodePath, d.DeployedBy, db.Ms(tx.Now)).Scan(&d.ID)
		if err != nil {
			return fmt.Errorf("flow: deploy %s: %w", d.Key, err)
		}
		for _, el := range m.Elements {
			if el.Kind == model.KindStartEvent && el.Event == model.EventMessage && el.Parent == nil && el.Message != nil {
				if _, err := tx.ExecContext(ctx, `INSERT INTO flow_message_starts (definition_id, message_name, element_id) VALUES (?, ?, ?)`, d.ID, el.Message.Name, el.ID); err != nil {
					return err
				}
			}
		}
		return e.audit.Record(ctx, audit.Entry{Action: "deploy", Entity: "flow_definition", EntityID: d.ID, Summary: fmt.Sprintf("%s v%d", d.Key, d.Version)})
	})
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.defs[d.ID] = d
	e.mu.Unlock()
	return d, nil
}

// definition returns a deployed version by id, parsed once and cached:
// versions never change.
func (e *Engine) definition(ctx context.Context, id int64) (*Definition, error) {
	e.mu.RLock()
	d := e.defs[id]
	e.mu.RUnlock()
	if d != nil {
		return d, nil
	}
	d, err := scanDefinition(e.db.Q(ctx).QueryRowContext(ctx, `SELECT `+defCols+` FROM flow_definitions WHERE id = ?`, id))
	if db.IsNoRows(err) {
		return nil, errs.NotFound("error.flow.definition_not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("flow: load definition %d: %w", id, err)
	}
	// Deployed versions parsed once already; accept every job type now so a
	// handler unregistered since cannot make old instances unreadable.
	m, _, err := Compile([]byte(d.Source), nil)
	if err != nil {
		return nil, fmt.Errorf("flow: definition %d no longer parses: %w", id, err)
	}
	m.Version = d.Version
	d.Model = m
	e.mu.Lock()
	e.defs[id] = d
	e.mu.Unlock()
	return d, nil
}

const defCols = `id, key, version, name, format, source, node_path, deployed_by, deployed_at`

func scanDefinition(row interface{ Scan(...any) error }) (*Definition, error) {
	var d Definition
	var by sql.NullInt64
	var at int64
	if err := row.Scan(&d.ID, &d.Key, &d.Version, &d.Name, &d.Format, &d.Source, &d.NodePath, &by, &at); err != nil {
		return nil, err
	}
	if by.Valid {
		d.DeployedBy = &by.Int64
	}
	d.DeployedAt = db.Time(at)
	return &d, nil
}

// Latest returns the newest version of key; ENotFound when there is none.
func (e *Engine) Latest(ctx context.Context, key string) (*Definition, error) {
	var id int64
	err := e.db.Q(ctx).QueryRowContext(ctx, `SELECT id FROM flow_definitions WHERE key = ? ORDER BY version DESC LIMIT 1`, key).Scan(&id)
	if db.IsNoRows(err) {
		return nil, errs.Newf(errs.ENotFound, "error.flow.definition_not_found", "key", key)
	}
	if err != nil {
		return nil, fmt.Errorf("flow: latest %s: %w", key, err)
	}
	return e.definition(ctx, id)
}

// Definition returns one deployed version by id.
func (e *Engine) Definition(ctx context.Context, id int64) (*Definition, error) {
	return e.definition(ctx, id)
}

// ListDefinitions returns every version, newest first per key, with
// instance counts by state.
func (e *Engine) ListDefinitions(ctx context.Context, key string) ([]Definition, error) {
	q := `SELECT ` + defCols + ` FROM flow_definitions`
	var args []any
	if key != "" {
		q += ` WHERE key = ?`
		args = append(args, key)
	}
	rows, err := e.db.Q(ctx).QueryContext(ctx, q+` ORDER BY key, version DESC LIMIT 1000`, args...)
	if err != nil {
		return nil, fmt.Errorf("flow: list definitions: %w", err)
	}
	out := []Definition{}
	idx := map[int64]int{}
	for rows.Next() {
		d, err := scanDefinition(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		d.Source = ""
		d.Instances = map[string]int{}
		idx[d.ID] = len(out)
		out = append(out, *d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	counts, err := e.db.Q(ctx).QueryContext(ctx, `SELECT definition_id, state, COUNT(*) FROM flow_instances GROUP BY definition_id, state`)
	if err != nil {
		return nil, fmt.Errorf("flow: instance counts: %w", err)
	}
	defer counts.Close()
	for counts.Next() {
		var id int64
		var st string
		var n int
		if err := counts.Scan(&id, &st, &n); err != nil {
			return nil, err
		}
		if i, ok := idx[id]; ok {
			out[i].Instances[st] = n
		}
	}
	return out, counts.Err()
}

// Validate compiles sources and returns one line per problem, for the CLI
// ("guanjia flow validate"). knownJobType nil accepts every type.
func Validate(src []byte) (key string, problems []string) {
	m, _, err := Compile(src, nil)
	if err != nil {
		var ps model.Problems
		if errors.As(err, &ps) {
			for _, p := range ps {
				problems = append(problems, p.String())
			}
			return "", problems
		}
		return "", []string{strings.TrimSpace(err.Error())}
	}
	return m.Key, nil
}
