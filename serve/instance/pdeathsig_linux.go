package instance

import "syscall"

// dieWithParent has the kernel kill the instance when serve's process dies.
func dieWithParent(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
