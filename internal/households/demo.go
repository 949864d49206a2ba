package households

import (
	"context"
	"fmt"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/demo"
	"github.com/guanjia/guanjia/internal/org"
)

// Demo facts other modules and tests rely on.
const (
	DemoOwnerUnit  = "1-0101"
	DemoOwnerName  = "张三"
	DemoOwnerPhone = "13800000001"
	// DemoSecondButler owns buildings 2 and 3 of 示例花园.
	DemoSecondButler = "butler2"
)

var (
	demoSurnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	demoGiven    = []string{"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞",
		"平", "刚", "桂英", "建华", "文", "华", "红", "志强", "玉兰", "建国", "婷", "欣怡", "子涵", "浩然", "梓轩", "雨桐", "一诺", "宇航", "思远", "晓东"}
	demoChildren = []string{"小宝", "乐乐", "果果", "多多", "可可", "豆豆", "天天", "睿睿"}
)

// residentID builds a valid resident ID number for a birthday.
func residentID(birth time.Time, seq int) string {
	body := fmt.Sprintf("440305%s%03d", birth.Format("20060102"), seq%1000)
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(body[i]-'0') * weights[i]
	}
	return body + string("10X98765432"[sum%11])
}

// DemoStep returns the households part of the demo data: every unit of
// 示例花园 (3 buildings × 20 floors × 4 units, "1-0101" is building 1,
// floor 01, unit 01) has a household with a realistic mix of people;
// 张三 (13800000001) owns 1-0101; the demo butler owns building 1 and a
// second butler, butler2, buildings 2 and 3; some life events, a key in
// custody with an owner coming back, and today's care tasks.
func DemoStep(svc *Service, o *org.Service, principals Principals) demo.Step {
	return func(ctx context.Context, s *demo.Sites) error {
		in := org.StaffInput{NodeID: s.Garden, Username: DemoSecondButler, Name: "陈管家", Phone: "13900000009"}
		if d, ok := s.Departments["garden.customer_service"]; ok {
			in.DepartmentID = &d
		}
		st, err := o.SystemCreateStaff(ctx, in, demo.Password, false)
		if err != nil {
			return fmt.Errorf("demo: %s: %w", DemoSecondButler, err)
		}
		if err := o.SystemGrant(ctx, st.ID, auth.RoleButler, s.Garden); err != nil {
			return err
		}
		s.Staff[DemoSecondButler] = st.ID
		now := db.Now(ctx)
		today := localDay(now, defaultZone)
		rows := demoRows(today, s.Staff["butler"], st.ID)
		if _, err := svc.SystemLoad(ctx, s.Garden, rows); err != nil {
			return err
		}
		return demoCare(ctx, svc, principals, s.Staff["butler"], s.Garden, now)
	}
}

// demoRows is every household of 示例花园.
func demoRows(today time.Time, butler1, butler2 int64) []Row {
	var rows []Row
	layouts := []string{"3室2厅", "2室2厅", "2室1厅", "4室2厅"}
	areas := []float64{118.6, 89.2, 76.5, 142.3}
	n := 0
	for b := 1; b <= 3; b++ {
		butler := butler2
		if b == 1 {
			butler = butler1
		}
		for f := 1; f <= 20; f++ {
			for u := 1; u <= 4; u++ {
				unit := fmt.Sprintf("%d-%02d%02d", b, f, u)
				area := areas[u-1]
				base := Row{Unit: unit, AreaM2: &area, Layout: layouts[u-1], UnitState: "occupied", Residency: "living", ButlerID: &butler}
				rows = append(rows, demoHousehold(base, n, today)...)
				n++
			}
		}
	}
	return rows
}

// demoHousehold returns the people of the n-th household.
func demoHousehold(base Row, n int, today time.Time) []Row {
	phone := func(k int) []string { return []string{fmt.Sprintf("138%08d", n*10+k)} }
	surname := string(demoSurnames[(n*7)%len(demoSurnames)])
	given := func(k int) string { return demoGiven[(n*3+k*11)%len(demoGiven)] }
	born := func(age, k int) time.Time {
		return today.AddDate(-age, -((n + k) % 12), -((n*5 + k) % 27))
	}
	owner := base
	owner.Role, owner.Name, owner.Phones = "owner", surname+given(0), phone(1)
	owner.Gender = []string{"m", "f"}[n%2]
	if n%3 == 0 {
		b := born(35+n%30, 0)
		owner.Birthday, owner.BirthdayConsent = b.Format("2006-01-02"), "2026-01"
		if n%6 == 0 {
			owner.IDNumber, owner.IDConsent = residentID(b, n), "2026-01"
		}
	}
	if n%5 == 0 {
		owner.Plates = []string{fmt.Sprintf("粤B%05d", 10000+n*37%89999)}
	}
	if n%9 == 0 {
		owner.Pets = []PetInput{{Kind: "dog", Name: "旺财"}}
	}
	if n == 6 { // 1-0203: a birthday today
		owner.Birthday, owner.BirthdayConsent = today.AddDate(-52, 0, 0).Format("2006-01-02"), "2026-01"
	}
	switch {
	case n == 0: // 1-0101: 张三, his wife and their son under 14
		owner.Name, owner.Gender, owner.Phones = DemoOwnerName, "m", []string{DemoOwnerPhone}
		owner.Birthday, owner.BirthdayConsent = today.AddDate(-46, 0, 9).Format("2006-01-02"), "2026-01"
		owner.IDNumber, owner.IDConsent = residentID(today.AddDate(-46, 0, 9), 17), "2026-01"
		owner.Notes = "喜欢安静；工作日晚归，快递请放物业前台"
		owner.Plates = []string{"粤B12345"}
		wife := base
		wife.Role, wife.Relation, wife.Name, wife.Gender, wife.Phones = "co_resident", "配偶", "李四", "f", phone(2)
		child := base
		child.Role, child.Relation, child.Name, child.Gender = "family", "儿子", "张小宝", "m"
		child.Birthday, child.ChildUnder14 = today.AddDate(-8, -2, 0).Format("2006-01-02"), true
		child.GuardianConsent, child.GuardianRelation = "2026-01", "父亲"
		return []Row{owner, wife, child}
	case n%23 == 5: // an elderly person living alone
		owner.Name = surname + []string{"桂英", "秀兰", "建国", "玉兰"}[n%4]
		b := born(78+n%10, 1)
		owner.Birthday, owner.BirthdayConsent = b.Format("2006-01-02"), "2026-01"
		owner.ElderlyAlone, owner.NeedsAssistance = true, n%2 == 0
		owner.Notes = "独居，子女在外地；每周探访，注意用电用气安全"
		return []Row{owner}
	case n%11 == 3: // rented out: the owner lives elsewhere, a tenant lives here
		owner.Residency, owner.UnitState = "absent", "rented"
		tenant := base
		tenant.Residency, tenant.UnitState = "absent", "rented"
		tenant.Role, tenant.Name, tenant.Phones = "tenant", string(demoSurnames[(n*13+5)%len(demoSurnames)])+given(2), phone(3)
		return []Row{owner, tenant}
	case n%17 == 8: // the owner is abroad; the flat is empty
		owner.Residency, owner.UnitState = "absent", "vacant"
		return []Row{owner}
	case n%13 == 6: // a young family with a child under 14
		spouse := base
		spouse.Role, spouse.Relation, spouse.Name, spouse.Phones = "co_resident", "配偶", string(demoSurnames[(n*5+3)%len(demoSurnames)])+given(1), phone(2)
		child := base
		child.Role, child.Relation, child.Name = "family", "女儿", surname+demoChildren[n%len(demoChildren)]
		child.Birthday, child.ChildUnder14 = born(5+n%7, 2).Format("2006-01-02"), true
		child.GuardianConsent, child.GuardianRelation = "2026-01", "母亲"
		return []Row{owner, spouse, child}
	default: // owner and spouse, sometimes a parent
		spouse := base
		spouse.Role, spouse.Relation, spouse.Name, spouse.Phones = "co_resident", "配偶", string(demoSurnames[(n*5+3)%len(demoSurnames)])+given(1), phone(2)
		out := []Row{owner, spouse}
		if n%4 == 1 {
			parent := base
			parent.Role, parent.Relation, parent.Name = "family", "母亲", string(demoSurnames[(n*11+1)%len(demoSurnames)])+given(3)
			parent.NeedsAssistance = n%8 == 1
			out = append(out, parent)
		}
		return out
	}
}

// demoCare adds life events, a key in custody with its owner coming back,
// a contact, and today's care tasks, acting as the demo butler.
func demoCare(ctx context.Context, svc *Service, principals Principals, butlerID, siteID int64, now time.Time) error {
	p, err := principals.LoadPrincipal(ctx, butlerID)
	if err != nil {
		return err
	}
	ctx = auth.WithPrincipal(ctx, p)
	hh := func(unit string) (int64, error) {
		var id int64
		err := svc.db.Q(ctx).QueryRowContext(ctx, `SELECT h.id FROM households h JOIN units u ON u.id = h.unit_id WHERE u.site_id = ? AND u.number = ? AND h.status = 'current'`,
			siteID, unit).Scan(&id)
		return id, err
	}
	day := func(d int) string { return localDay(now, defaultZone).AddDate(0, 0, d).Format("2006-01-02") }
	wedding, err := hh("1-0302")
	if err != nil {
		return err
	}
	if _, err := svc.AddEvent(ctx, wedding, EventInput{Kind: "wedding", StartsOn: day(10), Notes: "女儿出嫁，预计来宾 60 人，需临时车位 15 个"}); err != nil {
		return fmt.Errorf("demo: wedding: %w", err)
	}
	reno, err := hh("1-0504")
	if err != nil {
		return err
	}
	if _, err := svc.AddEvent(ctx, reno, EventInput{Kind: "renovation", StartsOn: day(3), EndsOn: day(63), Notes: "厨房卫生间翻新"}); err != nil {
		return fmt.Errorf("demo: renovation: %w", err)
	}
	away, err := hh("1-1204")
	if err != nil {
		return err
	}
	if _, err := svc.db.Q(ctx).ExecContext(ctx, `UPDATE households SET residency = 'absent' WHERE id = ?`, away); err != nil {
		return err
	}
	if _, err := svc.AddEvent(ctx, away, EventInput{Kind: "long_trip", StartsOn: day(-20), EndsOn: day(4), Notes: "业主出国探亲"}); err != nil {
		return fmt.Errorf("demo: trip: %w", err)
	}
	k, err := svc.ReceiveKey(ctx, away, KeyInput{Label: "入户门钥匙 1 把、信箱钥匙 1 把", Purposes: []string{"airing", "checks"}, Storage: "钥匙柜 A-12",
		Notes: "业主出国期间每两周开窗通风，检查水电"})
	if err != nil {
		return fmt.Errorf("demo: key: %w", err)
	}
	taken := now.Add(-6 * 24 * time.Hour)
	back := taken.Add(40 * time.Minute)
	if _, err := svc.LogKeyUse(ctx, k.ID, KeyUseInput{Purpose: "airing", AccompaniedBy: "秩序部 王师傅", Note: "开窗通风 30 分钟，检查水电燃气正常，关窗锁门",
		TakenAt: &taken, BackAt: &back}); err != nil {
		return fmt.Errorf("demo: key use: %w", err)
	}
	arrive := time.Date(now.Year(), now.Month(), now.Day(), 10, 0, 0, 0, defaultZone).AddDate(0, 0, 4)
	if _, err := svc.AddArrival(ctx, away, ArrivalInput{ArriveAt: &arrive, Prepare: []string{"airing", "cleaning", "ac_on"}, Notes: "业主周五上午回国"}); err != nil {
		return fmt.Errorf("demo: arrival: %w", err)
	}
	owner, err := hh(DemoOwnerUnit)
	if err != nil {
		return err
	}
	if _, err := svc.AddContact(ctx, owner, ContactInput{Channel: "phone", Note: "回访报修：厨房水龙头已修好，业主满意"}); err != nil {
		return fmt.Errorf("demo: contact: %w", err)
	}
	_, err = svc.GenerateCare(ctx, now)
	return err
}
