// bench_test.go: benchmarks of the raw peer (the "raw client" baseline) and its scanner.

package xmpptest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"
)

// BenchmarkScanner measures splitting a stream of typical chat messages.
func BenchmarkScanner(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("<stream:stream xmlns='jabber:client'>")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&buf, "<message from='alice@localhost/r' to='bob@localhost/r' type='chat' id='m-%06d'><body>hello number %d</body><stanza-id xmlns='urn:xmpp:sid:0' id='abcdef' by='bob@localhost'/></message>", i, i)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		sc := NewScanner(bytes.NewReader(data))
		n := 0
		for {
			el, err := sc.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if nameIs(el, "message") {
				n++
			}
		}
		if n != 1000 {
			b.Fatal(n)
		}
	}
}

// BenchmarkRawPeerThroughput sends bursts from one raw peer to another through Prosody with
// MAM off and reports messages per second end to end (bounded by the server, not the peers).
func BenchmarkRawPeerThroughput(b *testing.B) {
	srv := NewProsody(b, ProsodyOptions{DisableMAM: true})
	if _, err := srv.CreateUsers(2, "bench", "pw"); err != nil {
		b.Fatal(err)
	}
	tx, err := DialRaw(srv, "bench1", "pw", "tx")
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Close()
	rx, err := DialRawOpts(srv, "bench2", "pw", "rx", RawOptions{CountOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer rx.Close()
	const burst = 5000
	b.ResetTimer()
	t0 := time.Now()
	want := int64(0)
	for b.Loop() {
		if err := tx.SendMessages(rx.JID(), burst, "b"); err != nil {
			b.Fatal(err)
		}
		want += burst
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		err := rx.WaitCount(ctx, want)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(want)/time.Since(t0).Seconds(), "msg/s")
}
