// proc.go: child processes that die with the test binary, and exact readiness checks.
//
// Every server and peer process is started with PR_SET_PDEATHSIG, so the kernel signals it when
// the test binary dies in any way (panic, test timeout, SIGKILL) even if no cleanup code ran.
// The parent-death signal fires when the *thread* that forked exits, and the Go runtime may end
// threads, so all starts happen on one goroutine locked to its OS thread for the life of the
// process. Servers are started through scripts that exec the real binary, so the PID we hold is
// the server's own PID (prosody's Lua VM, ejabberd's beam.smp).

package xmpptest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

var (
	spawnOnce sync.Once
	spawnCh   chan spawnReq
)

// startChild starts cmd in its own process group with a parent-death signal.
func startChild(cmd *exec.Cmd, deathSig syscall.Signal) error {
	spawnOnce.Do(func() {
		spawnCh = make(chan spawnReq)
		go func() {
			runtime.LockOSThread() // never unlocked: this thread lives as long as the process
			for req := range spawnCh {
				req.done <- req.cmd.Start()
			}
		}()
	})
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true // a terminal's Ctrl-C goes to us; we stop servers in order
	cmd.SysProcAttr.Pdeathsig = deathSig
	req := spawnReq{cmd: cmd, done: make(chan error, 1)}
	spawnCh <- req
	return <-req.done
}

// listeningPorts returns the loopback TCP ports (IPv4 and IPv6) in state LISTEN whose socket
// belongs to process pid, by matching socket inodes in /proc/pid/fd with /proc/net/tcp{,6}.
func listeningPorts(pid int) (map[int]bool, error) {
	fds, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		l, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + fd.Name())
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[l[8:len(l)-1]] = true
		}
	}
	ports := map[int]bool{}
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(file)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			if len(fields) < 10 || fields[3] != "0A" || !inodes[fields[9]] {
				continue
			}
			_, hexPort, ok := strings.Cut(fields[1], ":")
			if !ok {
				continue
			}
			if p, err := strconv.ParseInt(hexPort, 16, 32); err == nil {
				ports[int(p)] = true
			}
		}
		f.Close()
	}
	return ports, nil
}

func fmtPorts(ports []int) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return fmt.Sprint(strings.Join(s, ","))
}
