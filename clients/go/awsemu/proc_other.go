//go:build !linux

package awsemu

import "os/exec"

// setSysProcAttr: only Linux can tie the server's life to the test process's; elsewhere Close
// (or Start's cleanup) stops it.
func setSysProcAttr(cmd *exec.Cmd) {}
