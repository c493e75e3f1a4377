// memory.go: resident memory of the real app (bin/parley, built here with the release tags) under
// Xvfb with the chat holding 100,000 messages open: a copy of the generated 1,000,000-message
// profile logs in by itself (remembered password) to an isolated Prosody and opens the chat given
// as an xmpp: URI on the command line. After the login and a settling time the process's memory is
// read from /proc (VmRSS, and its anonymous and file-backed parts: SQLite's read connections map
// the database file), then the screen is captured. The same with an empty profile is the baseline.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"parley/app"
	"parley/xmppclient/xmpptest"
)

// runUnderXvfb is run by xvfb-run: it starts the app, writes its PID, takes a screenshot of the
// screen when asked (a file appears), and stops the app.
const runUnderXvfb = `set -u
bin=$1 profile=$2 uri=$3 work=$4
"$bin" --profile "$profile" "$uri" >"$work/app.log" 2>&1 &
pid=$!
echo "$pid" > "$work/pid"
while [ ! -e "$work/shoot" ]; do
  kill -0 "$pid" 2>/dev/null || exit 3
  sleep 0.1
done
import -window root "$work/screen.png" 2>/dev/null || true
kill -TERM "$pid" 2>/dev/null
wait "$pid"
`

// failingKeyring is the OS keyring of a machine without a D-Bus session: the password goes to the
// profile folder, where the real app finds it.
type failingKeyring struct{}

func (failingKeyring) Get(string) (string, error) { return "", errors.New("no keyring") }
func (failingKeyring) Set(string, string) error   { return errors.New("no keyring") }
func (failingKeyring) Delete(string) error        { return errors.New("no keyring") }

func benchMemory(ctx context.Context, o options) error {
	for _, tool := range []string{"xvfb-run", "Xvfb", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Printf("### Resident memory with the 100,000-message chat open\n\nSkipped: %s is missing (make deps installs xvfb, imagemagick).\n\n", tool)
			return nil
		}
	}
	big, err := historyProfile(ctx, o.data)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "parley-bench-memory-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin := filepath.Join(work, "parley")
	build := exec.CommandContext(ctx, "go", "build", "-tags", "migrated_fynedo", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build the app: %v\n%s", err, out)
	}
	srv, err := xmpptest.StartProsody(xmpptest.ProsodyOptions{})
	if err != nil {
		return fmt.Errorf("start Prosody (make deps installs it): %w", err)
	}
	defer srv.Close()

	type memCase struct {
		name, user, from, uri string
	}
	pics, err := picturesProfile(ctx, o.data)
	if err != nil {
		return err
	}
	cases := []memCase{
		{"empty profile, logged in (baseline)", "memempty", "", "xmpp:nobody@example.org"},
		{fmt.Sprintf("history of %s messages, the chat with %s (%s messages) open", thousands(genTotal), bigPeer, thousands(genBig)), "membig", big, "xmpp:" + bigPeer},
		{fmt.Sprintf("a chat of %d pictures open (thumbnails cached)", picsCount), "mempics", pics, "xmpp:" + picsPeer},
	}
	fmt.Fprintln(os.Stderr, "chat bench: memory: the real app under Xvfb")
	type row struct {
		c   memCase
		kb  map[string]int
		png string
	}
	var rows []row
	for i, c := range cases {
		if err := srv.CreateUser(c.user, benchPass); err != nil {
			return err
		}
		dir := filepath.Join(work, fmt.Sprintf("profile%d", i))
		if c.from != "" {
			if err := copyDir(c.from, dir); err != nil {
				return err
			}
		}
		if err := rememberLogin(ctx, srv, dir, c.user); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		kb, shot, err := measureApp(ctx, bin, dir, c.uri, filepath.Join(work, fmt.Sprintf("run%d", i)), o.memSettle)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		if o.memShots != "" {
			dst := fmt.Sprintf("%s-%d.png", o.memShots, i)
			if err := copyFile(shot, dst); err == nil {
				shot = dst
			}
		}
		rows = append(rows, row{c, kb, shot})
	}
	bigRSS := rows[1].kb["VmRSS"]
	fmt.Printf("### Resident memory with the %s-message chat open (the real app under Xvfb)\n\n", thousands(genBig))
	fmt.Printf("**Goal:** under 200 MB. **%s:** %.0f MB resident (%.0f MB anonymous, %.0f MB file-backed), %.0f MB more than the empty profile.\n\n",
		verdict(bigRSS < 200*1024), mb(bigRSS), mb(rows[1].kb["RssAnon"]), mb(rows[1].kb["RssFile"]+rows[1].kb["RssShmem"]), mb(bigRSS-rows[0].kb["VmRSS"]))
	picsRSS := rows[2].kb["VmRSS"]
	fmt.Printf("**Goal (#11):** with a chat of %d pictures open, under 250 MB. **%s:** %.0f MB resident (%.0f MB more than the empty profile).\n\n",
		picsCount, verdict(picsRSS < 250*1024), mb(picsRSS), mb(picsRSS-rows[0].kb["VmRSS"]))
	fmt.Println("| profile | VmRSS | anonymous | file-backed | VmHWM (peak) |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, r := range rows {
		fmt.Printf("| %s | %.0f MB | %.0f MB | %.0f MB | %.0f MB |\n", r.c.name, mb(r.kb["VmRSS"]), mb(r.kb["RssAnon"]),
			mb(r.kb["RssFile"]+r.kb["RssShmem"]), mb(r.kb["VmHWM"]))
	}
	fmt.Printf("\nRead %s after the app logged in (remembered password) and opened the chat of its xmpp: URI, "+
		"1280x800x24 Xvfb screen, Fyne's GL driver on Mesa's software renderer.", fmtDur(o.memSettle))
	if o.memShots != "" {
		fmt.Printf(" Screenshots: %s-0.png to %s-%d.png.", o.memShots, o.memShots, len(rows)-1)
	}
	fmt.Printf(" Machine: %s.\n\n", machine())
	return nil
}

func mb(kb int) float64 { return float64(kb) / 1024 }

// rememberLogin logs user in once on the profile dir with "remember password" (the password goes
// to the profile folder: no keyring), so the real app logs in by itself.
func rememberLogin(ctx context.Context, srv *xmpptest.Server, dir, user string) error {
	if err := newProfile(srv, dir); err != nil {
		return err
	}
	svc, err := app.NewService(app.Options{ProfileDir: dir, Keyring: failingKeyring{}, Version: "bench"})
	if err != nil {
		return err
	}
	defer svc.Close()
	host, port := splitAddr(srv.C2SAddr)
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := svc.Login(lctx, app.LoginRequest{JID: srv.JID(user), Password: benchPass, Host: host, Port: port, Remember: true}); err != nil {
		return err
	}
	if !svc.Saved().AutoLogin {
		return errors.New("the profile does not log in by itself")
	}
	return nil
}

// measureApp runs the app under Xvfb on the profile with the URI, waits for it to be online plus
// settle, reads its memory, has the screen captured and stops it.
func measureApp(ctx context.Context, bin, profile, uri, work string, settle time.Duration) (map[string]int, string, error) {
	if err := os.MkdirAll(work, 0o700); err != nil {
		return nil, "", err
	}
	cmd := exec.CommandContext(ctx, "xvfb-run", "-a", "-s", "-screen 0 1280x800x24", "bash", "-c", runUnderXvfb, "xvfb",
		bin, profile, uri, work)
	// No session bus: the keyring and notifications fail fast instead of starting one.
	cmd.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(work, "no-bus"))
	out, err := os.Create(filepath.Join(work, "xvfb.log"))
	if err != nil {
		return nil, "", err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = os.WriteFile(filepath.Join(work, "shoot"), nil, 0o600)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	logTail := func() string {
		data, _ := os.ReadFile(filepath.Join(work, "app.log"))
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		return strings.Join(lines[max(0, len(lines)-15):], "\n")
	}
	// Online: the log says so (the engine logs its state changes).
	deadline := time.Now().Add(60 * time.Second)
	for {
		data, _ := os.ReadFile(filepath.Join(work, "app.log"))
		if strings.Contains(string(data), "state=online") {
			break
		}
		select {
		case err := <-exited:
			return nil, "", fmt.Errorf("the app ended before logging in (%v):\n%s", err, logTail())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, "", fmt.Errorf("the app did not log in within a minute:\n%s", logTail())
		}
	}
	select { // let the window show the chat and the catch-up finish
	case err := <-exited:
		return nil, "", fmt.Errorf("the app ended (%v):\n%s", err, logTail())
	case <-time.After(settle):
	}
	pidData, err := os.ReadFile(filepath.Join(work, "pid"))
	if err != nil {
		stop()
		return nil, "", err
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(pidData)))
	kb, err := procStatus(pid)
	stop()
	if err != nil {
		return nil, "", err
	}
	return kb, filepath.Join(work, "screen.png"), nil
}

// procStatus reads the memory lines (in kB) of /proc/PID/status.
func procStatus(pid int) (map[string]int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	kb := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasSuffix(v, " kB") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(v, " kB")))
		if err == nil {
			kb[k] = n
		}
	}
	if kb["VmRSS"] == 0 {
		return nil, fmt.Errorf("no memory figures for process %d", pid)
	}
	return kb, sc.Err()
}
