package app

import (
	"context"

	"github.com/guanjia/guanjia/internal/flow"
	"github.com/guanjia/guanjia/internal/org"
)

// flowDirectory gives the process screens the sites, people and teams of
// the organisation, each scoped to the caller by the org service.
type flowDirectory struct{ org *org.Service }

var _ flow.Directory = flowDirectory{}

func (d flowDirectory) Sites(ctx context.Context) ([]flow.Choice, error) {
	nodes, err := d.org.Tree(ctx, org.KindSite, 0)
	if err != nil {
		return nil, err
	}
	out := make([]flow.Choice, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, flow.Choice{ID: n.ID, Name: n.Name})
	}
	return out, nil
}

func (d flowDirectory) People(ctx context.Context) ([]flow.Choice, error) {
	page, err := d.org.ListStaff(ctx, org.StaffFilter{Status: "active", PerPage: 200})
	if err != nil {
		return nil, err
	}
	out := make([]flow.Choice, 0, len(page.Items))
	for _, s := range page.Items {
		hint := s.NodeName
		if s.DepartmentName != "" {
			hint += " · " + s.DepartmentName
		}
		out = append(out, flow.Choice{ID: s.ID, Name: s.Name, Hint: hint})
	}
	return out, nil
}

func (d flowDirectory) Teams(ctx context.Context) ([]flow.Choice, error) {
	deps, err := d.org.Departments(ctx, 0)
	if err != nil {
		return nil, err
	}
	nodes, err := d.org.Tree(ctx, "", 0)
	if err != nil {
		return nil, err
	}
	where := make(map[int64]string, len(nodes))
	for _, n := range nodes {
		where[n.ID] = n.Name
	}
	out := make([]flow.Choice, 0, len(deps))
	for _, dp := range deps {
		out = append(out, flow.Choice{ID: dp.ID, Name: dp.Name, Hint: where[dp.NodeID]})
	}
	return out, nil
}
