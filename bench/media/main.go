// Command media benchmarks Parley's file handling, each figure beside its
// baseline in the same run: the thumbnail of a 12-megapixel photo (Parley,
// through vipsthumbnail, against running vipsthumbnail itself, and Go's
// own decoder and Parley's Go fallback beside them); the upload of a 9 MB
// file to an XEP-0363 slot of an isolated Prosody (Parley's streamed PUT
// against curl -T to a slot of the same server); and a 12-megapixel photo
// from SendFile to "sent" (prepared, uploaded, the message acknowledged)
// on loopback. Run it with `make bench` or `go run ./bench/media`.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"parley/app"
	"parley/app/media"
	"parley/app/store"
	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

const benchPass = "bench-pass"

func main() {
	rounds := flag.Int("rounds", 7, "timed rounds of each case (after one untimed warm-up)")
	flag.Parse()
	if err := run(*rounds); err != nil {
		fmt.Fprintln(os.Stderr, "media bench:", err)
		os.Exit(1)
	}
}

func run(rounds int) error {
	work, err := os.MkdirTemp("", "parley-bench-media-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	photo := filepath.Join(work, "photo-12mp.jpg")
	if err := writePhoto(photo, 4000, 3000); err != nil {
		return err
	}
	if err := benchThumbnail(work, photo, rounds); err != nil {
		return err
	}
	srv, err := xmpptest.StartProsody(xmpptest.ProsodyOptions{UploadLimit: 64 << 20})
	if err != nil {
		return fmt.Errorf("start Prosody (make deps installs it): %w", err)
	}
	defer srv.Close()
	if err := benchUpload(work, srv, rounds); err != nil {
		return err
	}
	return benchSendPhoto(work, srv, photo, rounds)
}

// writePhoto writes a w × h JPEG that compresses like a photo (smooth
// areas with grain), at quality 90.
func writePhoto(path string, w, h int) error {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := mrand.New(mrand.NewPCG(7, 11))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			n := uint8(r.IntN(24))
			img.SetRGBA(x, y, color.RGBA{uint8(x*255/w) + n/2, uint8(y*255/h) + n/3, uint8((x+y)*127/(w+h)) + n, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o600)
}

// timeRounds runs fn once untimed, then rounds times, and returns the sorted durations.
func timeRounds(rounds int, fn func() error) ([]time.Duration, error) {
	if err := fn(); err != nil {
		return nil, err
	}
	ds := make([]time.Duration, 0, rounds)
	for range rounds {
		t0 := time.Now()
		if err := fn(); err != nil {
			return nil, err
		}
		ds = append(ds, time.Since(t0))
	}
	slices.Sort(ds)
	return ds, nil
}

func median(ds []time.Duration) time.Duration { return ds[len(ds)/2] }

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
}

func verdict(ok bool) string {
	if ok {
		return "Met"
	}
	return "MISSED"
}

func benchThumbnail(work, photo string, rounds int) error {
	dst := filepath.Join(work, "thumb.jpg")
	parley := func() error {
		os.Remove(dst)
		_, _, err := media.Thumbnail(photo, dst, app.ThumbSide)
		return err
	}
	vips := func() error {
		out := filepath.Join(work, "vips.jpg")
		cmd := exec.Command("vipsthumbnail", photo, "--size", fmt.Sprintf("%dx%d>", app.ThumbSide, app.ThumbSide), "-o", out+"[Q=82,strip]")
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("vipsthumbnail: %v: %s", err, b)
		}
		return nil
	}
	decode := func() error {
		f, err := os.Open(photo)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = jpeg.Decode(f)
		return err
	}
	shrinker := media.Shrinker()
	p, err := timeRounds(rounds, parley)
	if err != nil {
		return err
	}
	v, err := timeRounds(rounds, vips)
	if err != nil {
		return err
	}
	d, err := timeRounds(rounds, decode)
	if err != nil {
		return err
	}
	restore := media.UseGoShrinker()
	g, err := timeRounds(rounds, parley)
	restore()
	if err != nil {
		return err
	}
	ratio := float64(median(p)) / float64(median(v))
	fmt.Printf("### Thumbnail of a 12-megapixel JPEG (4000 × 3000, %s) to %d px\n\n", fileSize(photo), app.ThumbSide)
	fmt.Printf("**Goal:** at most 1.5 × vipsthumbnail and under 150 ms. **%s:** %s, %.2f × vipsthumbnail (%s); Parley shrinks with %s.\n\n",
		verdict(ratio <= 1.5 && median(p) < 150*time.Millisecond), ms(median(p)), ratio, ms(median(v)), shrinker)
	fmt.Println("| what | median | min | max |")
	fmt.Println("|---|---:|---:|---:|")
	for _, r := range []struct {
		name string
		ds   []time.Duration
	}{{"Parley: media.Thumbnail (" + shrinker + ")", p}, {"vipsthumbnail run by hand, same options", v},
		{"Go image/jpeg: decode alone (no scaling)", d}, {"Parley's Go fallback (imaging: decode, Lanczos, encode)", g}} {
		fmt.Printf("| %s | %s | %s | %s |\n", r.name, ms(median(r.ds)), ms(r.ds[0]), ms(r.ds[len(r.ds)-1]))
	}
	fmt.Printf("\n%d rounds each after a warm-up; the thumbnail is written each time.\n\n", rounds)
	return nil
}

func fileSize(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return "?"
	}
	return app.FormatSize(st.Size())
}

// connect logs a fresh user in with xmppclient.
func connect(ctx context.Context, srv *xmpptest.Server, user string) (*xmppclient.Client, error) {
	if err := srv.CreateUser(user, benchPass); err != nil {
		return nil, err
	}
	host, p, _ := net.SplitHostPort(srv.C2SAddr)
	port, _ := strconv.Atoi(p)
	cl, err := xmppclient.New(xmppclient.Config{JID: xmppclient.MustParseJID(srv.JID(user)), Password: benchPass,
		Host: host, Port: port, RootCAs: srv.CAPool})
	if err != nil {
		return nil, err
	}
	go func() {
		for range cl.Events() {
		}
	}()
	return cl, cl.Connect(ctx)
}

func benchUpload(work string, srv *xmpptest.Server, rounds int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cl, err := connect(ctx, srv, "uploader")
	if err != nil {
		return err
	}
	defer cl.Close()
	file := filepath.Join(work, "blob.bin")
	const size = 9 << 20
	blob := make([]byte, size)
	if _, err := rand.Read(blob); err != nil {
		return err
	}
	if err := os.WriteFile(file, blob, 0o600); err != nil {
		return err
	}
	svc, err := cl.UploadService(ctx)
	if err != nil {
		return err
	}
	hc := media.NewHTTPClient()
	parley := func() error {
		slot, err := cl.RequestUploadSlot(ctx, svc, "blob.bin", size, "application/octet-stream")
		if err != nil {
			return err
		}
		return media.Put(ctx, hc, slot.PutURL, slot.PutHeaders, file, "application/octet-stream", nil)
	}
	curl := func() error {
		slot, err := cl.RequestUploadSlot(ctx, svc, "blob.bin", size, "application/octet-stream")
		if err != nil {
			return err
		}
		// "Expect:" off: curl would otherwise wait up to a second for a
		// 100 Continue that Prosody does not send.
		args := []string{"-sS", "-f", "-T", file, "-H", "Content-Type: application/octet-stream", "-H", "Expect:"}
		for k, v := range slot.PutHeaders {
			args = append(args, "-H", k+": "+v)
		}
		out, err := exec.CommandContext(ctx, "curl", append(args, slot.PutURL)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("curl -T: %v: %s", err, out)
		}
		return nil
	}
	// Interleaved, so both meet the server in the same state.
	var p, c []time.Duration
	for i := range rounds + 1 {
		for _, k := range []struct {
			fn  func() error
			out *[]time.Duration
		}{{parley, &p}, {curl, &c}} {
			t0 := time.Now()
			if err := k.fn(); err != nil {
				return err
			}
			if i > 0 {
				*k.out = append(*k.out, time.Since(t0))
			}
		}
	}
	slices.Sort(p)
	slices.Sort(c)
	rate := func(d time.Duration) string { return fmt.Sprintf("%.1f MB/s", float64(size)/1e6/d.Seconds()) }
	ratio := float64(median(c)) / float64(median(p)) // throughput ratio
	fmt.Printf("### Upload of a 9 MB file to an XEP-0363 slot (%s, http_file_share, loopback)\n\n", prosody())
	fmt.Printf("**Goal:** at least 0.9 × curl -T's throughput. **%s:** %.2f × (Parley %s, curl %s; medians of %d).\n\n",
		verdict(ratio >= 0.9), ratio, rate(median(p)), rate(median(c)), rounds)
	fmt.Println("| client | median | min | max | throughput (median) |")
	fmt.Println("|---|---:|---:|---:|---:|")
	fmt.Printf("| Parley (slot request + media.Put) | %s | %s | %s | %s |\n", ms(median(p)), ms(p[0]), ms(p[len(p)-1]), rate(median(p)))
	fmt.Printf("| curl -T (slot request + curl, no Expect: 100-continue) | %s | %s | %s | %s |\n\n", ms(median(c)), ms(c[0]), ms(c[len(c)-1]), rate(median(c)))
	return nil
}

func benchSendPhoto(work string, srv *xmpptest.Server, photo string, rounds int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := srv.CreateUser("sender", benchPass); err != nil {
		return err
	}
	if err := srv.CreateUser("receiver", benchPass); err != nil {
		return err
	}
	dir := filepath.Join(work, "profile")
	p, err := app.OpenProfile(dir)
	if err != nil {
		return err
	}
	if err := p.Update(func(st *app.AccountSettings) { st.CAFile = srv.CAFile }); err != nil {
		return err
	}
	svc, err := app.NewService(app.Options{ProfileDir: dir, Keyring: noSecrets{}, Version: "bench"})
	if err != nil {
		return err
	}
	defer svc.Close()
	host, port, _ := net.SplitHostPort(srv.C2SAddr)
	portN, _ := strconv.Atoi(port)
	if err := svc.Login(ctx, app.LoginRequest{JID: srv.JID("sender"), Password: benchPass, Host: host, Port: portN}); err != nil {
		return err
	}
	cs := svc.Chats()
	sent := make(chan int64, 16)
	unsub := cs.Subscribe(func(app.ChatChange) {
		select {
		case sent <- 0:
		default:
		}
	})
	defer unsub()
	peer := srv.JID("receiver")
	one := func() error {
		m, err := cs.SendFile(ctx, peer, photo, media.PrepareOptions{})
		if err != nil {
			return err
		}
		for {
			cur, err := cs.Message(ctx, m.ID)
			if err != nil {
				return err
			}
			switch cur.State {
			case store.StateSent, store.StateDelivered, store.StateRead:
				return nil
			case store.StateFailed:
				return fmt.Errorf("the photo failed: %s", cur.Error)
			}
			select {
			case <-sent:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	ds, err := timeRounds(rounds, one)
	if err != nil {
		return err
	}
	fmt.Printf("### A 12-megapixel photo from SendFile to \"sent\" (%s, loopback)\n\n", prosody())
	fmt.Printf("**Goal:** under 1 s. **%s:** median %s (min %s, max %s, %d rounds): prepared (turned, downscaled to %d px, metadata removed, %s), slot, upload, message acknowledged.\n\n",
		verdict(median(ds) < time.Second), ms(median(ds)), ms(ds[0]), ms(ds[len(ds)-1]), rounds, media.DefaultMaxSide, media.Shrinker())
	return nil
}

// prosody is "Prosody" and its Debian package's upstream version.
func prosody() string {
	out, _ := exec.Command("dpkg-query", "-W", "-f", "${Version}", "prosody").Output()
	v, _, _ := bytes.Cut(out, []byte("-"))
	return "Prosody " + string(v)
}

// noSecrets keeps no password (the bench logs in with it each time).
type noSecrets struct{}

func (noSecrets) Get(string) (string, error) { return "", app.ErrNoSecret }
func (noSecrets) Set(string, string) error   { return nil }
func (noSecrets) Delete(string) error        { return nil }
