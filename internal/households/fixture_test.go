package households

import (
	"context"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/org"
	"github.com/guanjia/guanjia/internal/pii"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// world is a small organisation for service tests: one site with two
// buildings, a butler, a supervisor and an admin.
type world struct {
	t         testing.TB
	db        *db.DB
	svc       *Service
	auth      *auth.Service
	org       *org.Service
	site      int64
	buildings []int64
	staff     map[string]int64
}

var fastArgon = auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

func newWorld(t testing.TB, d *db.DB) *world {
	t.Helper()
	ctx := context.Background()
	log := audit.New(d)
	w := &world{t: t, db: d, staff: map[string]int64{}}
	cfg := auth.DefaultConfig()
	cfg.Argon2 = fastArgon
	w.auth = auth.NewService(d, log, cfg)
	w.org = org.NewService(d, log, fastArgon)
	if err := w.org.EnsureBuiltinRoles(ctx); err != nil {
		t.Fatal(err)
	}
	v, err := pii.ParseKeys(pii.NewKeySpec("t1"))
	if err != nil {
		t.Fatal(err)
	}
	w.svc = NewService(d, log, v, w.auth, DefaultConfig(), nil, nil)
	err = d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		co, err := w.org.SystemCreateNode(ctx, org.NodeInput{Kind: org.KindCompany, Name: "测试物业", Timezone: "Asia/Shanghai"}, nil)
		if err != nil {
			return err
		}
		site, err := w.org.SystemCreateNode(ctx, org.NodeInput{Kind: org.KindSite, SiteKind: "residential", Name: "测试小区", Code: "T"}, &co.ID)
		if err != nil {
			return err
		}
		w.site = site.ID
		for _, code := range []string{"1", "2"} {
			b, err := w.org.SystemCreateNode(ctx, org.NodeInput{Kind: org.KindArea, AreaKind: "building", Name: code + " 栋", Code: code}, &site.ID)
			if err != nil {
				return err
			}
			w.buildings = append(w.buildings, b.ID)
		}
		for _, acc := range []struct{ user, role string }{{"admin", auth.RoleAdmin}, {"butler", auth.RoleButler}, {"butler2", auth.RoleButler},
			{"supervisor", auth.RoleSupervisor}, {"tech", auth.RoleTechnician}} {
			node := site.ID
			if acc.role == auth.RoleAdmin {
				node = co.ID
			}
			st, err := w.org.SystemCreateStaff(ctx, org.StaffInput{NodeID: node, Username: acc.user, Name: acc.user}, "password-1", false)
			if err != nil {
				return err
			}
			if err := w.org.SystemGrant(ctx, st.ID, acc.role, node); err != nil {
				return err
			}
			w.staff[acc.user] = st.ID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// as returns a context acting as a staff member.
func (w *world) as(user string) context.Context {
	w.t.Helper()
	ctx := context.Background()
	p, err := w.auth.LoadPrincipal(ctx, w.staff[user])
	if err != nil {
		w.t.Fatal(err)
	}
	ctx = auth.WithPrincipal(ctx, p)
	return audit.WithActor(ctx, audit.Actor{ID: p.StaffID, Name: user, IP: "127.0.0.1"})
}

// household creates a unit and its household owned by butler.
func (w *world) household(number string) *Household {
	w.t.Helper()
	ctx := w.as("admin")
	u, err := w.svc.CreateUnit(ctx, UnitInput{SiteID: w.site, Number: number, Layout: "3室2厅"})
	if err != nil {
		w.t.Fatal(err)
	}
	b := w.staff["butler"]
	h, err := w.svc.CreateHousehold(ctx, HouseholdInput{UnitID: u.ID, ButlerID: &b})
	if err != nil {
		w.t.Fatal(err)
	}
	return h
}

func strp(s string) *string { return &s }

func ids(id int64) *int64 { return &id }

// at is a fixed instant in the site's zone.
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, defaultZone)
	if err != nil {
		panic(err)
	}
	return t
}
