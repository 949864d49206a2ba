package main

// kind is the BPMN element a node is written as.
type kind int

const (
	kindStart kind = iota
	kindEnd
	kindUser
	kindXOR
	kindSub
	kindBoundary
)

// field is one guanjia:formField of a user task.
type field struct {
	ID, Label, Type string
	Required        bool
	Values          string // the choices of an enum, comma-separated
}

// countersign makes a user task a parallel multi-instance over a list of
// people.
type countersign struct {
	Collection, ElementVariable, CompletionCondition string
}

// task is what a user task carries besides its id and name.
type task struct {
	Groups   string // camunda:candidateGroups: role keys or dept:<kind>
	Assignee string // camunda:assignee, usually the person a 派工 step chose
	// Due is the camunda:dueDate in working days (the element is marked
	// guanjia:calendar="business"); "" when the step has no deadline.
	Due         string
	NextSteps   string // guanjia:nextSteps, shown to the waiting customer
	Materials   string // guanjia:materials, what the customer prepares
	Fields      []field
	Countersign *countersign
}

// node is a flow node together with its place in the drawing.
type node struct {
	ID, Name string
	Doc      string // bpmn:documentation
	Comment  string // an XML comment written before the element
	Kind     kind
	Task     *task
	Children []*node // a sub-process's content, drawn as one inner row

	// Boundary events only; they never interrupt the activity they watch.
	Host  string // id of the activity it sits on
	Timer string // timeDuration, in business time

	parent *node
	row    int
	x, y   int
	w, h   int
}

// flow is a sequence flow; Default makes it its gateway's default flow.
type flow struct {
	ID, From, To, Name, Cond string
	Default                  bool
}

// process is one template file.
type process struct {
	File, Key, Name, Doc, Comment string
	Rows                          [][]*node // top-level nodes, left to right, row by row
	Deadlines                     []deadline
	Flows                         []flow
}

// deadline is a commitment window: a non-interrupting business-time timer
// on an activity, leading to a supervisor's 督办 task and an end event.
type deadline struct {
	Boundary *node
	Task     *node
	End      *node
}

func start(id, name string) *node { return &node{ID: id, Name: name, Kind: kindStart} }

func end(id, name string) *node { return &node{ID: id, Name: name, Kind: kindEnd} }

func xor(id, name string) *node { return &node{ID: id, Name: name, Kind: kindXOR} }

func user(id, name, doc string, t task) *node {
	return &node{ID: id, Name: name, Doc: doc, Kind: kindUser, Task: &t}
}

func sub(id, name, doc string, children ...*node) *node {
	return &node{ID: id, Name: name, Doc: doc, Kind: kindSub, Children: children}
}

// watch attaches a commitment window to host: when timer (working days)
// elapses before host completes, a supervisor gets task; host goes on.
func watch(host *node, timer, doc string, t *node) deadline {
	b := &node{ID: host.ID + "_deadline", Name: "超出承诺时限", Doc: doc, Kind: kindBoundary, Host: host.ID, Timer: timer}
	return deadline{Boundary: b, Task: t, End: end(t.ID+"_done", "督办完毕")}
}

// chain links ids one after the other with unnamed, unconditioned flows.
func chain(ids ...string) []flow {
	var fs []flow
	for i := 1; i < len(ids); i++ {
		fs = append(fs, link(ids[i-1], ids[i]))
	}
	return fs
}

func link(from, to string) flow { return flow{ID: flowID(from, to), From: from, To: to} }

func when(from, to, name, cond string) flow {
	return flow{ID: flowID(from, to), From: from, To: to, Name: name, Cond: cond}
}

func otherwise(from, to, name string) flow {
	return flow{ID: flowID(from, to), From: from, To: to, Name: name, Default: true}
}

func flowID(from, to string) string { return "Flow_" + from + "_to_" + to }

// escalation is the 督办 task a missed commitment creates.
func escalation(id, what string) *node {
	return user(id, what+"超期督办",
		what+"超过承诺时限仍未办结：督办人核实原因、催办责任人并记录督办措施。原环节不中断，继续办理。",
		task{
			Groups: "supervisor",
			Fields: []field{
				{ID: "overdueReason", Label: "超期原因", Type: "string", Required: true},
				{ID: "superviseMeasures", Label: "督办措施", Type: "string", Required: true},
			},
		})
}
