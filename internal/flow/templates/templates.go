// Package templates ships the 业扩报装 (new power connection) processes as
// BPMN files drawn by us, with their diagrams: 高压新装/增容, 低压非居民 and
// 居民. Each deploys with internal/flow/bpmn.Parse like any uploaded file.
//
// Conventions shared by the templates:
//   - Candidate groups are role keys: clerk (营业厅受理、答复、合同、归档),
//     dispatcher (派工、装表工作票), technician (查勘、审图、检查、验收、
//     装表), manager (方案审核、合同会签), supervisor (超期督办). A 派工
//     step's chosen person (e.g. surveyor) becomes the next step's assignee.
//   - Deadlines are in working days on the site's business calendar: every
//     element carrying one is marked guanjia:calendar="business". A State
//     Grid commitment counts from the acceptance (受理) that opens it, so
//     each is a window — a sub-process, or the single step it covers — with
//     a non-interrupting timer that hands a 超期督办 task to a supervisor
//     without stopping the work; the due dates of the steps inside split the
//     window between them and add up to it.
//   - Reviews route on a boolean the reviewing step's form sets (e.g.
//     schemeApproved); the gateway's default flow is the way back, so a
//     missing answer never lets an application through.
//   - The contract countersign (高压) is a parallel multi-instance over the
//     countersigners list given when the contract is drafted; it ends when
//     all agree or at the first disagreement.
//
// The files are written by the generator in gen (go generate); edit it, not
// the files.
package templates

import (
	"embed"
	"io/fs"
)

//go:generate go run ./gen

//go:embed *.bpmn
var files embed.FS

// Template names one shipped process.
type Template struct {
	Key  string // the BPMN process id, used as the definition key
	Name string // the Chinese name shown to staff
	File string // the file name in Files
}

// List returns the shipped templates in the order a deploy screen shows
// them.
func List() []Template {
	return []Template{
		{Key: "gaoya_xinzhuang", Name: "高压新装/增容", File: "gaoya-xinzhuang.bpmn"},
		{Key: "diya_feijumin", Name: "低压非居民新装/增容", File: "diya-feijumin.bpmn"},
		{Key: "jumin", Name: "居民新装", File: "jumin.bpmn"},
	}
}

// Files returns every template's BPMN XML by file name. The map and its
// slices are fresh copies the caller may keep or change.
func Files() map[string][]byte {
	out := map[string][]byte{}
	names, err := fs.Glob(files, "*.bpmn")
	if err != nil {
		panic(err) // the pattern is constant and valid
	}
	for _, name := range names {
		data, err := files.ReadFile(name)
		if err != nil {
			panic(err) // embedded files are always readable
		}
		out[name] = data
	}
	return out
}
