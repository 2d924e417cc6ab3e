package engine

import "testing"

// TestCustomChecksUseUnknownsOnlyWhereTheyReadAWithheldField: CEL's unknowns (Options.Withheld)
// make every evaluation slower, nested comprehensions about six times (a check the cost limit
// stopped in 0.3 s ran into the 2 s timeout, which skips it for the rest of the evaluation), so
// an expression is run with them only where it may read a withheld field: a path under object
// that holds the field or lies in it, or object whole.
func TestCustomChecksUseUnknownsOnlyWhereTheyReadAWithheldField(t *testing.T) {
	withheld := []WithheldField{{Path: []string{"metadata", "managedFields"}}, {Kind: "Pod", Path: []string{"status"}}}
	for expression, want := range map[string]int{
		"[0,1,2].all(x, [0,1,2].all(y, true))":                                          0,
		"object.metadata.name == 'web' && object.metadata.labels['app'] == 'web'":       0,
		"has(object.metadata.annotations) && 'owner' in object.metadata.annotations":    0,
		"podSpec.containers.all(c, c.name != 'status')":                                 0,
		"object.spec.template.metadata.managedFields == null":                           0,
		"!object.metadata.?managedFields.orValue([]).exists(f, f.manager == 'kubectl')": 1,
		"has(object.metadata.managedFields)":                                            1,
		"object.metadata['managedFields'].size() == 0":                                  1,
		"object.metadata.managedFields[0].manager == 'kubectl'":                         1,
		"object.metadata.exists(k, k == 'managedFields')":                               1,
		"[object].exists(o, o.kind == 'Pod')":                                           2,
		"object.status.phase == 'Running' || object.metadata.name == 'web'":             1,
		"object.metadata[object.kind] == 1":                                             1,
	} {
		env, err := customEnv()
		if err != nil {
			t.Fatal(err)
		}
		ast, iss := env.Compile(expression)
		if iss.Err() != nil {
			t.Fatalf("%s: %v", expression, iss.Err())
		}
		if got := len(withheldOf(withheld, "Pod", objectReads(ast.NativeRep().Expr()))); got != want {
			t.Errorf("%s: %d withheld fields read (paths %q), want %d", expression, got, objectReads(ast.NativeRep().Expr()), want)
		}
	}
}
