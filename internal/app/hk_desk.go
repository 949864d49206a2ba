package app

import (
	"context"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/cases"
	"github.com/guanjia/guanjia/internal/housekeeping"
)

// hkDesk lets housekeeping open repair cases on the service desk: damage
// an attendant finds in a room becomes a repair case of the hotel's site,
// dispatched and timed like any other. The attendant may not open cases
// themselves (case.create is the desk's), so the case is opened on the
// system's behalf; the audit actor stays the attendant.
type hkDesk struct{ cases *cases.Service }

var _ housekeeping.Desk = hkDesk{}

// OpenRepair opens the case in the caller's transaction.
func (d hkDesk) OpenRepair(ctx context.Context, r housekeeping.RepairRequest) (int64, string, error) {
	out, err := d.cases.Create(auth.WithPrincipal(ctx, nil), cases.CreateInput{Type: cases.TypeRepair, SiteID: r.SiteID, Area: "public", Source: "patrol",
		Priority: "normal", Description: "客房 " + r.Room + "：" + r.Description})
	if err != nil {
		return 0, "", err
	}
	return out.Case.ID, out.Case.Number, nil
}
