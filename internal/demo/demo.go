// Package demo loads the demonstration data: a property group with a
// residential community, a hotel and a utility office, their departments,
// and one account per built-in role (password demo123).
package demo

import (
	"context"
	"fmt"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/org"
)

// Password is every demo account's password.
const Password = "demo123"

const settingKey = "demo"

// Account is a demo login.
type Account struct {
	Username, Role, Name, Where string
}

// Accounts lists the demo logins in display order.
var Accounts = []Account{
	{"admin", auth.RoleAdmin, "系统管理员", "示例物业集团"},
	{"manager", auth.RoleManager, "王经理", "示例物业集团"},
	{"supervisor", auth.RoleSupervisor, "李主管", "示例花园"},
	{"butler", auth.RoleButler, "赵管家", "示例花园"},
	{"technician", auth.RoleTechnician, "钱师傅", "示例花园"},
	{"attendant", auth.RoleAttendant, "孙服务员", "示例酒店"},
	{"clerk", auth.RoleClerk, "周文员", "示例酒店"},
	{"dispatcher", auth.RoleDispatcher, "吴调度", "示例供电营业厅"},
}

// Sites are the ids of the demo's nodes, for modules that add their own data.
type Sites struct {
	Company, Garden, Hotel, Utility int64
	Buildings                       []int64 // 示例花园's three buildings
	HotelFloors                     []int64
	Staff                           map[string]int64 // username → id
	Departments                     map[string]int64 // "garden.engineering" → id
}

// Step is a module's part of the demo data.
type Step func(ctx context.Context, s *Sites) error

// IsDemo reports whether the database holds demo data.
func IsDemo(ctx context.Context, d *db.DB) (bool, error) {
	var n int
	err := d.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM settings WHERE key = ?`, settingKey).Scan(&n)
	return n > 0, err
}

// IsEmpty reports whether the database has no organisation yet.
func IsEmpty(ctx context.Context, d *db.DB) (bool, error) {
	var n int
	err := d.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM org_nodes`).Scan(&n)
	return n == 0, err
}

// Load loads the demo data once. It refuses (EConflict) a database that
// holds other data, and does nothing on a database that is already a demo.
// It returns whether it loaded anything.
func Load(ctx context.Context, d *db.DB, o *org.Service, steps ...Step) (bool, error) {
	isDemo, err := IsDemo(ctx, d)
	if err != nil {
		return false, err
	}
	if isDemo {
		return false, nil
	}
	empty, err := IsEmpty(ctx, d)
	if err != nil {
		return false, err
	}
	if !empty {
		return false, errs.New(errs.EConflict, "error.demo.not_empty")
	}
	ctx = audit.WithActor(ctx, audit.Actor{Name: "demo"})
	err = d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		s, err := loadOrg(ctx, o)
		if err != nil {
			return err
		}
		for _, step := range steps {
			if err := step(ctx, s); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, '1', ?)`, settingKey, db.Ms(tx.Now))
		return err
	})
	return err == nil, err
}

func loadOrg(ctx context.Context, o *org.Service) (*Sites, error) {
	s := &Sites{Staff: map[string]int64{}, Departments: map[string]int64{}}
	node := func(parent *int64, in org.NodeInput) (int64, error) {
		n, err := o.SystemCreateNode(ctx, in, parent)
		if err != nil {
			return 0, fmt.Errorf("demo: node %s: %w", in.Name, err)
		}
		return n.ID, nil
	}
	var err error
	if s.Company, err = node(nil, org.NodeInput{Kind: org.KindCompany, Name: "示例物业集团", Code: "DEMO", Timezone: "Asia/Shanghai"}); err != nil {
		return nil, err
	}
	if s.Garden, err = node(&s.Company, org.NodeInput{Kind: org.KindSite, SiteKind: "residential", Name: "示例花园", Code: "GARDEN", Address: "示例市示例区花园路 1 号", Calendar: "24x7"}); err != nil {
		return nil, err
	}
	for b := 1; b <= 3; b++ {
		id, err := node(&s.Garden, org.NodeInput{Kind: org.KindArea, AreaKind: "building", Name: fmt.Sprintf("%d 栋", b), Code: fmt.Sprint(b)})
		if err != nil {
			return nil, err
		}
		s.Buildings = append(s.Buildings, id)
	}
	if s.Hotel, err = node(&s.Company, org.NodeInput{Kind: org.KindSite, SiteKind: "hotel", Name: "示例酒店", Code: "HOTEL", Address: "示例市示例区酒店大道 8 号", Calendar: "24x7"}); err != nil {
		return nil, err
	}
	for f := 1; f <= 8; f++ {
		id, err := node(&s.Hotel, org.NodeInput{Kind: org.KindArea, AreaKind: "floor", Name: fmt.Sprintf("%d 楼", f), Code: fmt.Sprintf("F%d", f)})
		if err != nil {
			return nil, err
		}
		s.HotelFloors = append(s.HotelFloors, id)
	}
	if s.Utility, err = node(&s.Company, org.NodeInput{Kind: org.KindSite, SiteKind: "utility", Name: "示例供电营业厅", Code: "POWER", Address: "示例市示例区电力路 20 号", Calendar: "cn-workday"}); err != nil {
		return nil, err
	}
	depts := []struct {
		site       int64
		prefix     string
		kind, name string
	}{
		{s.Garden, "garden", "customer_service", "客服中心"}, {s.Garden, "garden", "engineering", "工程部"}, {s.Garden, "garden", "security", "秩序部"},
		{s.Garden, "garden", "cleaning", "环境部"}, {s.Garden, "garden", "landscaping", "绿化部"},
		{s.Hotel, "hotel", "housekeeping", "管家部"}, {s.Hotel, "hotel", "front_office", "前厅部"}, {s.Hotel, "hotel", "engineering", "工程部"},
		{s.Utility, "utility", "customer_service", "营业厅"}, {s.Utility, "utility", "engineering", "客户服务中心"},
	}
	for _, dp := range depts {
		d, err := o.SystemCreateDepartment(ctx, org.DepartmentInput{NodeID: dp.site, Kind: dp.kind, Name: dp.name})
		if err != nil {
			return nil, err
		}
		s.Departments[dp.prefix+"."+dp.kind] = d.ID
	}
	where := map[string]int64{"示例物业集团": s.Company, "示例花园": s.Garden, "示例酒店": s.Hotel, "示例供电营业厅": s.Utility}
	deptOf := map[string]string{"butler": "garden.customer_service", "technician": "garden.engineering", "supervisor": "garden.customer_service",
		"attendant": "hotel.housekeeping", "clerk": "hotel.housekeeping", "dispatcher": "utility.customer_service"}
	for i, acc := range Accounts {
		in := org.StaffInput{NodeID: where[acc.Where], Username: acc.Username, Name: acc.Name, Phone: fmt.Sprintf("1390000%04d", i+1)}
		if k, ok := deptOf[acc.Username]; ok {
			id := s.Departments[k]
			in.DepartmentID = &id
		}
		st, err := o.SystemCreateStaff(ctx, in, Password, false)
		if err != nil {
			return nil, fmt.Errorf("demo: staff %s: %w", acc.Username, err)
		}
		if err := o.SystemGrant(ctx, st.ID, acc.Role, where[acc.Where]); err != nil {
			return nil, err
		}
		s.Staff[acc.Username] = st.ID
	}
	return s, nil
}
