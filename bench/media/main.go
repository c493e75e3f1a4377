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
	"parley/bench/internal/benchkit"
	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

const benchPass = benchkit.Pass

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
	p, err := benchkit.Time(rounds, parley)
	if err != nil {
		return err
	}
	v, err := benchkit.Time(rounds, vips)
	if err != nil {
		return err
	}
	d, err := benchkit.Time(rounds, decode)
	if err != nil {
		return err
	}
	restore := media.UseGoShrinker()
	g, err := benchkit.Time(rounds, parley)
	restore()
	if err != nil {
		return err
	}
	ratio := float64(benchkit.Median(p)) / float64(benchkit.Median(v))
	fmt.Printf("### Thumbnail of a 12-megapixel JPEG (4000 × 3000, %s) to %d px\n\n", fileSize(photo), app.ThumbSide)
	fmt.Printf("**Goal:** at most 1.5 × vipsthumbnail and under 150 ms. **%s:** %s, %.2f × vipsthumbnail (%s); Parley shrinks with %s.\n\n",
		benchkit.Verdict(ratio <= 1.5 && benchkit.Median(p) < 150*time.Millisecond), benchkit.Ms(benchkit.Median(p)), ratio, benchkit.Ms(benchkit.Median(v)), shrinker)
	fmt.Println("| what | median | min | max |")
	fmt.Println("|---|---:|---:|---:|")
	for _, r := range []struct {
		name string
		ds   []time.Duration
	}{{"Parley: media.Thumbnail (" + shrinker + ")", p}, {"vipsthumbnail run by hand, same options", v},
		{"Go image/jpeg: decode alone (no scaling)", d}, {"Parley's Go fallback (imaging: decode, Lanczos, encode)", g}} {
		fmt.Printf("| %s | %s | %s | %s |\n", r.name, benchkit.Ms(benchkit.Median(r.ds)), benchkit.Ms(r.ds[0]), benchkit.Ms(r.ds[len(r.ds)-1]))
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
	ratio := float64(benchkit.Median(c)) / float64(benchkit.Median(p)) // throughput ratio
	fmt.Printf("### Upload of a 9 MB file to an XEP-0363 slot (%s, http_file_share, loopback)\n\n", prosody())
	fmt.Printf("**Goal:** at least 0.9 × curl -T's throughput. **%s:** %.2f × (Parley %s, curl %s; medians of %d).\n\n",
		benchkit.Verdict(ratio >= 0.9), ratio, rate(benchkit.Median(p)), rate(benchkit.Median(c)), rounds)
	fmt.Println("| client | median | min | max | throughput (median) |")
	fmt.Println("|---|---:|---:|---:|---:|")
	fmt.Printf("| Parley (slot request + media.Put) | %s | %s | %s | %s |\n", benchkit.Ms(benchkit.Median(p)), benchkit.Ms(p[0]), benchkit.Ms(p[len(p)-1]), rate(benchkit.Median(p)))
	fmt.Printf("| curl -T (slot request + curl, no Expect: 100-continue) | %s | %s | %s | %s |\n\n", benchkit.Ms(benchkit.Median(c)), benchkit.Ms(c[0]), benchkit.Ms(c[len(c)-1]), rate(benchkit.Median(c)))
	return nil
}

func benchSendPhoto(work string, srv *xmpptest.Server, photo string, rounds int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	svc, waitSent, err := benchkit.Sender(ctx, srv, filepath.Join(work, "profile"))
	if err != nil {
		return err
	}
	defer svc.Close()
	cs := svc.Chats()
	peer := srv.JID("receiver")
	one := func() error {
		m, err := cs.SendFile(ctx, peer, photo, media.PrepareOptions{})
		if err != nil {
			return err
		}
		return waitSent(m.ID)
	}
	ds, err := benchkit.Time(rounds, one)
	if err != nil {
		return err
	}
	fmt.Printf("### A 12-megapixel photo from SendFile to \"sent\" (%s, loopback)\n\n", prosody())
	fmt.Printf("**Goal:** under 1 s. **%s:** median %s (min %s, max %s, %d rounds): prepared (turned, downscaled to %d px, metadata removed, %s), slot, upload, message acknowledged.\n\n",
		benchkit.Verdict(benchkit.Median(ds) < time.Second), benchkit.Ms(benchkit.Median(ds)), benchkit.Ms(ds[0]), benchkit.Ms(ds[len(ds)-1]), rounds, media.DefaultMaxSide, media.Shrinker())
	return nil
}

// prosody is "Prosody" and its Debian package's upstream version.
func prosody() string {
	out, _ := exec.Command("dpkg-query", "-W", "-f", "${Version}", "prosody").Output()
	v, _, _ := bytes.Cut(out, []byte("-"))
	return "Prosody " + string(v)
}
