package functions

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"testing"

	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
)

// TestRegistryMatchesTemplateAndMains checks that the registry has exactly
// the template's functions, and that each entry is the constructor the
// function's own main.go starts — so the local stack runs what Lambda runs.
func TestRegistryMatchesTemplateAndMains(t *testing.T) {
	root, err := infra.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := infra.LoadTemplate(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	reg := Registry()
	for _, f := range tmpl.Functions() {
		newFunc, ok := reg[f.LogicalID]
		if !ok {
			t.Errorf("template function %s is not in the registry", f.LogicalID)
			continue
		}
		delete(reg, f.LogicalID)
		got := runtime.FuncForPC(reflect.ValueOf(newFunc).Pointer()).Name()
		want, err := mainConstructor(filepath.Join(root, f.Dir, "main.go"))
		if err != nil {
			t.Errorf("%s: %v", f.LogicalID, err)
			continue
		}
		if got != want {
			t.Errorf("%s: registry has %s, %s/main.go starts %s", f.LogicalID, got, f.Dir, want)
		}
	}
	for id := range reg {
		t.Errorf("registry entry %s names no function of template.yaml", id)
	}
}

// mainConstructor finds awsenv.Start(name, pkg.New) in a main.go and
// returns "<import path of pkg>.New".
func mainConstructor(path string) (string, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		return "", err
	}
	imports := map[string]string{}
	for _, imp := range file.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		name := filepath.Base(p)
		if imp.Name != nil {
			name = imp.Name.Name
		}
		imports[name] = p
	}
	var found string
	ast.Inspect(file, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) != 2 {
			return true
		}
		fun, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || fun.Sel.Name != "Start" {
			return true
		}
		if arg, ok := call.Args[1].(*ast.SelectorExpr); ok {
			if pkg, ok := arg.X.(*ast.Ident); ok {
				found = imports[pkg.Name] + "." + arg.Sel.Name
			}
		}
		return true
	})
	if found == "" {
		return "", &mainError{path}
	}
	return found, nil
}

type mainError struct{ path string }

func (e *mainError) Error() string {
	return e.path + ": no awsenv.Start(name, pkg.New) call found"
}
