package expr

import "testing"

func TestEval(t *testing.T) {
	vars := map[string]any{
		"approved": true, "amount": 1500.0, "region": "east", "x": "a", "list": []any{},
		"items": []any{"p", "q"}, "Vacation Approval": "Approved", "n": 3,
		"obj": map[string]any{"name": "Li"},
	}
	cases := []struct {
		src  string
		want any
	}{
		{"${approved}", true},
		{"${amount > 1000 && region == 'east'}", true},
		{"${x eq 'a'}", true},
		{"${not approved}", false},
		{"${!approved}", false},
		{"${empty list}", true},
		{"${empty missing}", true},
		{"${empty items}", false},
		{"= amount > 100 and region = \"east\"", true},
		{"= not(approved)", false},
		{"Vacation Approval = \"Approved\"", true},
		{"bpmn:getDataObject('approved')", true},
		{"not(bpmn:getDataObject('approved'))", false},
		{"${missing > 3}", false},
		{"${missing == null}", true},
		{"${missing}", nil},
		{"${obj.name}", "Li"},
		{"${nope.name}", nil},
		{"= items[1]", "p"},
		{"${items[1]}", "q"},
		{"${n == 3}", true},
		{"${n + 1}", 4.0},
		{"${'a' + n}", "a3"},
		{"${amount >= 1500 ? 'big' : 'small'}", "big"},
		{"= if approved then 1 else 2", 1},
		{"${count(items)}", 2.0},
		{"= contains(region, \"ea\")", true},
		{"true", true},
		{"${amount div 2 gt 700}", true},
		{"${n mod 2 == 1}", true},
	}
	for _, c := range cases {
		e, err := Compile(c.src)
		if err != nil {
			t.Errorf("%s: compile: %v", c.src, err)
			continue
		}
		got, err := e.Eval(vars)
		if err != nil {
			t.Errorf("%s: eval: %v (code %s)", c.src, err, e.Code)
			continue
		}
		if !equal(got, c.want) {
			t.Errorf("%s = %#v, want %#v (code %s)", c.src, got, c.want, e.Code)
		}
	}
}

func TestCompileRejects(t *testing.T) {
	for _, src := range []string{
		"${genderBean.getGenderString(gender)}", "${a +}", "= foo(1)", "${'open}", "", "${a ? b}", "${x == }",
	} {
		if _, err := Compile(src); err == nil {
			t.Errorf("%q compiled, want an error", src)
		}
	}
}

func TestEvalBoolErrors(t *testing.T) {
	e, err := Compile("${amount && approved}")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.EvalBool(map[string]any{"amount": 3.0, "approved": true}); err == nil {
		t.Fatal("want an error for a number in a boolean position")
	}
	if ok, err := e.EvalBool(nil); err != nil || ok {
		t.Fatalf("nil vars: %v %v", ok, err)
	}
}
