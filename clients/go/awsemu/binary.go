package awsemu

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

var repoBuild struct {
	once sync.Once
	path string
	err  error
}

// findBinary answers $AWSEMU_BIN, else `awsemu` on $PATH, else the repository's debug binary
// (built once per process when cargo is at hand, so a test never runs a stale server).
func findBinary() (string, error) {
	if b := os.Getenv("AWSEMU_BIN"); b != "" {
		return b, nil
	}
	if p, err := exec.LookPath("awsemu"); err == nil {
		return p, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root := repoRoot(wd)
	if root == "" {
		return "", errors.New("no awsemu binary: set AWSEMU_BIN, put awsemu on PATH, or run inside the awsemu repository")
	}
	repoBuild.once.Do(func() { repoBuild.path, repoBuild.err = buildInRepo(root) })
	return repoBuild.path, repoBuild.err
}

// repoRoot is the awsemu repository holding dir (symbolic links resolved, so that a GOPATH entry
// linked into the repository counts), or "".
func repoRoot(dir string) string {
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	for {
		if isFile(filepath.Join(dir, "Cargo.toml")) && isFile(filepath.Join(dir, "emulator", "Cargo.toml")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func buildInRepo(root string) (string, error) {
	target := os.Getenv("CARGO_TARGET_DIR")
	if target == "" {
		target = filepath.Join(root, "target")
	} else if !filepath.IsAbs(target) {
		target = filepath.Join(root, target)
	}
	bin := filepath.Join(target, "debug", "awsemu")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	if cargo, err := exec.LookPath("cargo"); err == nil {
		cmd := exec.Command(cargo, "build", "-q", "-p", "awsemu", "--bin", "awsemu")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("cargo build -p awsemu in %s: %v\n%s", root, err, out)
		}
	}
	if !isFile(bin) {
		return "", fmt.Errorf("no %s (and no cargo to build it): set AWSEMU_BIN or put awsemu on PATH", bin)
	}
	return bin, nil
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}
