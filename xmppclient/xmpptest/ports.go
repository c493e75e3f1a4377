// ports.go: where instances live on disk and which loopback ports they get. Port blocks are
// reserved with flock'ed files shared by every test binary on the machine (go test runs packages
// in parallel), verified free by binding them, and held until the server is closed. Instance
// directories of test binaries that died are garbage-collected on the next start.

package xmpptest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// Port blocks: base = portLow + 10*k, ports base..base+9, all below the kernel's ephemeral range
// (32768-60999 here) so that client source ports never collide with server ports.
const (
	portLow    = 20000
	portHigh   = 32760
	blockWidth = 10
)

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error
	//lint:ignore U1000 never read: holding the open file keeps its flock for the life of the process
	ownerF *os.File // flock'ed while this process lives: marks its instance dirs as in use
	dirSeq atomic.Int64
)

// workRoot returns the directory that holds instance dirs and port locks:
// /dev/shm/parley-xmpptest when /dev/shm exists (tmpfs: fast fsync for SQLite), else
// $TMPDIR/parley-xmpptest. XMPPTEST_DIR overrides it.
func workRoot() (string, error) {
	rootOnce.Do(func() {
		base := os.Getenv("XMPPTEST_DIR")
		if base == "" {
			base = filepath.Join(os.TempDir(), "parley-xmpptest")
			if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
				if f, err := os.CreateTemp("/dev/shm", ".xmpptest-probe"); err == nil {
					f.Close()
					os.Remove(f.Name())
					base = "/dev/shm/parley-xmpptest"
				}
			}
		}
		if rootErr = os.MkdirAll(filepath.Join(base, "ports"), 0o755); rootErr != nil {
			return
		}
		rootDir = base
		pid := os.Getpid()
		ownerF, rootErr = lockFile(filepath.Join(base, fmt.Sprintf("%d.owner", pid)))
		if rootErr != nil {
			return
		}
		gcStale(base, pid)
	})
	return rootDir, rootErr
}

// newInstanceDir makes an empty directory for one server instance.
func newInstanceDir(kind string) (string, error) {
	root, err := workRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, fmt.Sprintf("%d-%s-%d", os.Getpid(), kind, dirSeq.Add(1)))
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	return dir, os.MkdirAll(dir, 0o755)
}

// gcStale removes instance dirs whose owning process no longer holds its owner lock.
func gcStale(root string, self int) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	alive := map[string]bool{strconv.Itoa(self): true}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".owner") {
			continue
		}
		pid := strings.TrimSuffix(name, ".owner")
		if pid == strconv.Itoa(self) {
			continue
		}
		f, err := lockFile(filepath.Join(root, name))
		if err != nil { // still locked: that process is alive
			alive[pid] = true
			continue
		}
		os.Remove(filepath.Join(root, name))
		f.Close()
	}
	for _, e := range entries {
		name := e.Name()
		pid, _, ok := strings.Cut(name, "-")
		if !ok || !e.IsDir() || alive[pid] {
			continue
		}
		if _, err := strconv.Atoi(pid); err == nil {
			os.RemoveAll(filepath.Join(root, name))
		}
	}
}

// lockFile creates path and takes an exclusive non-blocking flock on it.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// portBlock is a reserved run of loopback ports.
type portBlock struct {
	Base int
	lock *os.File
}

func (b *portBlock) release() {
	if b != nil && b.lock != nil {
		b.lock.Close()
		b.lock = nil
	}
}

// reservePorts picks a random free block and checks that the given offsets are bindable on
// 127.0.0.1 and ::1. It retries on any collision.
func reservePorts(offsets ...int) (*portBlock, error) {
	root, err := workRoot()
	if err != nil {
		return nil, err
	}
	nBlocks := (portHigh - portLow) / blockWidth
	var lastErr error
	for try := 0; try < 200; try++ {
		base := portLow + blockWidth*rand.IntN(nBlocks)
		f, err := lockFile(filepath.Join(root, "ports", strconv.Itoa(base)+".lock"))
		if err != nil {
			lastErr = err
			continue
		}
		if err := portsFree(base, offsets); err != nil {
			f.Close()
			lastErr = err
			continue
		}
		return &portBlock{Base: base, lock: f}, nil
	}
	return nil, fmt.Errorf("xmpptest: no free port block found: %v", lastErr)
}

func portsFree(base int, offsets []int) error {
	for _, off := range offsets {
		p := strconv.Itoa(base + off)
		for _, host := range []string{"127.0.0.1", "::1"} {
			l, err := net.Listen("tcp", net.JoinHostPort(host, p))
			if err != nil {
				var op *net.OpError
				if host == "::1" && errors.As(err, &op) && strings.Contains(err.Error(), "cannot assign") {
					continue // no IPv6 loopback on this machine
				}
				return err
			}
			l.Close()
		}
	}
	return nil
}
