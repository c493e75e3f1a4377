// Package instance keeps Parley to one process per profile: the first
// process takes a lock in the profile folder (flock on parley.lock, freed
// by the kernel however the process ends) and listens on a private socket
// there (parley.sock, mode 0600); a later start finds the lock taken and
// hands its request (an xmpp: URI, or just "show yourself") to the
// running process over the socket, then exits. A socket left by a crash
// is removed by the next process that gets the lock.
package instance

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// File names in the folder.
const (
	LockFile   = "parley.lock"
	SocketFile = "parley.sock"
)

// ErrRunning: another process holds the folder's lock.
var ErrRunning = errors.New("another Parley is running with this profile")

// Request is what a later start asks of the running process.
type Request struct {
	// URI is an xmpp: URI to open ("" to only show the window).
	URI string `json:"uri,omitempty"`
}

// Instance is the lock and the listening socket of the running process.
type Instance struct {
	lock   *os.File
	ln     net.Listener
	sock   string
	handle func(Request)
	wg     sync.WaitGroup
	once   sync.Once
}

// maxSocketPath: a Unix socket's path must fit in sockaddr_un (108 bytes
// on Linux, with the terminating zero).
const maxSocketPath = 100

// SocketPath is where the socket of dir lives: in dir, or (a path too
// long for a socket) in the user's runtime folder under a name made from
// dir.
func SocketPath(dir string) string {
	p := filepath.Join(dir, SocketFile)
	if len(p) <= maxSocketPath {
		return p
	}
	base := os.Getenv("XDG_RUNTIME_DIR")
	if base == "" {
		base = os.TempDir()
	}
	h := sha256.Sum256([]byte(dir))
	return filepath.Join(base, "parley-"+hex.EncodeToString(h[:8])+".sock")
}

// Acquire takes dir's lock and listens for later starts; handle gets
// their requests (on the instance's goroutine: hand them to the UI).
// When another process holds the lock it returns ErrRunning.
func Acquire(dir string, handle func(Request)) (*Instance, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the instance lock: %w", err)
	}
	if err := tryLock(lock); err != nil {
		lock.Close()
		return nil, err
	}
	_ = lock.Truncate(0)
	_, _ = fmt.Fprintf(lock, "%d\n", os.Getpid())
	sock := SocketPath(dir)
	// Where the lock is only advisory (see lock_other.go), a socket that
	// answers is a running process.
	if conn, err := net.DialTimeout("unix", sock, time.Second); err == nil {
		conn.Close()
		lock.Close()
		return nil, ErrRunning
	}
	// Ours now: whatever socket is there was left by a process that ended.
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		lock.Close()
		return nil, fmt.Errorf("remove a stale socket: %w", err)
	}
	ln, err := net.Listen("unix", sock)
	if err == nil {
		// The folder is the user's alone (0700) and the socket too. (The
		// umask is the process's, shared with every goroutine: not touched.)
		err = os.Chmod(sock, 0o600)
	}
	if err != nil {
		if ln != nil {
			ln.Close()
		}
		lock.Close()
		return nil, fmt.Errorf("listen for later starts: %w", err)
	}
	i := &Instance{lock: lock, ln: ln, sock: sock, handle: handle}
	i.wg.Add(1)
	go i.serve()
	return i, nil
}

// serve answers later starts, one request per connection.
func (i *Instance) serve() {
	defer i.wg.Done()
	for {
		conn, err := i.ln.Accept()
		if err != nil {
			return // closed
		}
		i.wg.Add(1)
		go func() {
			defer i.wg.Done()
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			line, err := bufio.NewReaderSize(conn, 8192).ReadBytes('\n')
			if err != nil {
				return
			}
			var req Request
			if err := json.Unmarshal(line, &req); err != nil {
				_, _ = conn.Write([]byte("error: bad request\n"))
				return
			}
			i.handle(req)
			_, _ = conn.Write([]byte("ok\n"))
		}()
	}
}

// Close stops listening, removes the socket and frees the lock.
func (i *Instance) Close() {
	i.once.Do(func() {
		i.ln.Close()
		i.wg.Wait()
		os.Remove(i.sock)
		i.lock.Close()
	})
}

// HandOver sends req to the process running with dir and waits (at most
// timeout) for it to take it.
func HandOver(dir string, req Request, timeout time.Duration) error {
	conn, err := net.DialTimeout("unix", SocketPath(dir), timeout)
	if err != nil {
		return fmt.Errorf("reach the running Parley: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	line, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := conn.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("reach the running Parley: %w", err)
	}
	answer, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("the running Parley did not answer: %w", err)
	}
	if answer != "ok\n" {
		return fmt.Errorf("the running Parley refused: %s", answer)
	}
	return nil
}
