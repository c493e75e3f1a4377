// Tests of the instance lock and the hand-over, with real processes where
// it matters: a second Acquire in another process is refused while the
// first lives, its request reaches the first, the socket is 0600, and the
// lock and a stale socket are taken over after the first is killed.
package instance

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The child holds the lock until killed (TestLockHolder, re-executed).
func TestLockHolder(t *testing.T) {
	dir := os.Getenv("INSTANCE_TEST_DIR")
	if dir == "" {
		return // only as the child of the tests below
	}
	i, err := Acquire(dir, func(r Request) { os.Stdout.WriteString("got " + r.URI + "\n") })
	if err != nil {
		t.Fatal(err)
	}
	defer i.Close()
	os.Stdout.WriteString("ready\n")
	select {} // until killed: the parent decides when it ends
}

// holder starts a child process holding dir's lock; its output lines come
// on the channel.
func holder(t *testing.T, dir string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestLockHolder$")
	cmd.Env = append(os.Environ(), "INSTANCE_TEST_DIR="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitLine(t, lines, "ready")
	return cmd, lines
}

// waitLine waits for the child to print want.
func waitLine(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the child ended before printing %q", want)
			}
			if l == want {
				return
			}
		case <-deadline:
			t.Fatalf("the child did not print %q in 30 s", want)
		}
	}
}

func TestSecondStartHandsOver(t *testing.T) {
	dir := t.TempDir()
	first, lines := holder(t, dir)
	if _, err := Acquire(dir, func(Request) {}); err != ErrRunning {
		t.Fatalf("a second Acquire: %v, want ErrRunning", err)
	}
	st, err := os.Stat(SocketPath(dir))
	if err != nil || st.Mode().Perm() != 0o600 || st.Mode()&os.ModeSocket == 0 {
		t.Fatalf("the socket: %v, %v; want a 0600 socket", st, err)
	}
	if err := HandOver(dir, Request{URI: "xmpp:bob@example.org?message;body=hi"}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	waitLine(t, lines, "got xmpp:bob@example.org?message;body=hi")

	// Killed (no clean up: its socket stays), the lock is free again and
	// the stale socket is replaced.
	_ = first.Process.Kill()
	_ = first.Wait()
	if _, err := os.Stat(SocketPath(dir)); err != nil {
		t.Fatalf("the killed process's socket should still be there: %v", err)
	}
	if err := HandOver(dir, Request{}, time.Second); err == nil {
		t.Fatal("a hand-over to a dead process succeeded")
	}
	got := make(chan Request, 1)
	i, err := Acquire(dir, func(r Request) { got <- r })
	if err != nil {
		t.Fatalf("after the first died: %v", err)
	}
	defer i.Close()
	if err := HandOver(dir, Request{}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the new instance did not get the request")
	}
	i.Close()
	if _, err := os.Stat(SocketPath(dir)); !os.IsNotExist(err) {
		t.Errorf("Close left the socket: %v", err)
	}
}

func TestLongFolderSocketInRuntimeDir(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	dir := filepath.Join(t.TempDir(), strings.Repeat("very-long-profile-folder-name-", 5))
	i, err := Acquire(dir, func(Request) {})
	if err != nil {
		t.Fatal(err)
	}
	defer i.Close()
	if p := SocketPath(dir); !strings.HasPrefix(p, os.Getenv("XDG_RUNTIME_DIR")) || len(p) > maxSocketPath {
		t.Errorf("socket at %s", p)
	}
	if err := HandOver(dir, Request{}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}
