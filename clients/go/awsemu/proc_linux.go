package awsemu

import (
	"os/exec"
	"syscall"
)

// setSysProcAttr has the kernel stop the server when the test process dies without Close (a
// panic, a timeout kill), so no server outlives its test.
func setSysProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
