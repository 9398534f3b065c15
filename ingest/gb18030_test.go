package ingest

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// decodeBoth decodes b with gb18030Decoder and with x/text's decoder,
// through readers of a small buffer, so that sequences are cut at the
// ends of what each Transform sees.
func decodeBoth(t *testing.T, b []byte, oneByte bool) (fast, want []byte) {
	t.Helper()
	in := func() io.Reader {
		if oneByte {
			return iotest.OneByteReader(bytes.NewReader(b))
		}
		return bytes.NewReader(b)
	}
	fast, err1 := io.ReadAll(transform.NewReader(in(), gb18030Decoder{}))
	want, err2 := io.ReadAll(transform.NewReader(in(), simplifiedchinese.GB18030.NewDecoder()))
	if err1 != nil || err2 != nil {
		t.Fatalf("% x: %v, %v", b, err1, err2)
	}
	return fast, want
}

// TestGB18030DecoderIsXText: every one- and two-byte sequence, every
// four-byte lead with its ranges' ends, and random bytes weighted to
// GB18030's ranges decode to the same UTF-8 as x/text's decoder gives,
// replacement characters included, whether the input comes whole or a
// byte at a time. Taking 0x7F as a trail byte, or decoding a cut
// sequence instead of waiting for its end, fails it.
func TestGB18030DecoderIsXText(t *testing.T) {
	var cases [][]byte
	for c0 := range 256 {
		cases = append(cases, []byte{byte(c0)}, []byte{byte(c0), 'a'})
		for c1 := range 256 {
			cases = append(cases, []byte{byte(c0), byte(c1)}, []byte{'x', byte(c0), byte(c1), ','})
		}
		for _, tail := range [][]byte{{0x30, 0x81, 0x30}, {0x39, 0xFE, 0x39}, {0x35, 0x80, 0x30}, {0x30, 0x81, 0x3A}, {0x30, 0x81}} {
			cases = append(cases, append([]byte{byte(c0)}, tail...))
		}
	}
	r := rand.New(rand.NewPCG(11, 12))
	weights := []func() byte{
		func() byte { return byte('0' + r.IntN(10)) },
		func() byte { return byte(0x81 + r.IntN(0x7E)) },
		func() byte { return byte(0x40 + r.IntN(0xBF)) },
		func() byte { return byte(0x30 + r.IntN(10)) },
		func() byte { return byte(r.IntN(256)) },
	}
	for range 3000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = weights[r.IntN(len(weights))]()
		}
		cases = append(cases, b)
	}
	for i, b := range cases {
		for _, oneByte := range []bool{false, i%7 == 0} {
			if fast, want := decodeBoth(t, b, oneByte); !bytes.Equal(fast, want) {
				t.Fatalf("% x (a byte at a time: %v): % x, x/text gives % x", b, oneByte, fast, want)
			}
		}
	}
}

// TestGB18030DecoderLongText: a department file's worth of mixed text,
// through the reader's own buffers.
func TestGB18030DecoderLongText(t *testing.T) {
	text := bytes.Repeat([]byte("JS-000123,330101196003010011,张建国,男,1960-03-01,住院,2026-05-01,1234.50,800.00,434.50,C34.1,浙江省杭州市上城区𠀀路1号\n"), 5000)
	gb, err := io.ReadAll(transform.NewReader(bytes.NewReader(text), simplifiedchinese.GB18030.NewEncoder()))
	if err != nil {
		t.Fatal(err)
	}
	if fast, want := decodeBoth(t, gb, false); !bytes.Equal(fast, want) || !bytes.Equal(fast, text) {
		t.Fatalf("a long text decodes to %d bytes, x/text to %d, the original is %d", len(fast), len(want), len(text))
	}
}

func BenchmarkGB18030Decoder(b *testing.B) {
	text := bytes.Repeat([]byte("JS-000123,330101196003010011,张建国,男,1960-03-01,住院,2026-05-01,1234.50,800.00,434.50,C34.1\n"), 20000)
	gb, _ := io.ReadAll(transform.NewReader(bytes.NewReader(text), simplifiedchinese.GB18030.NewEncoder()))
	for _, d := range []struct {
		name string
		t    transform.Transformer
	}{{"ours", gb18030Decoder{}}, {"x-text", simplifiedchinese.GB18030.NewDecoder()}} {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(int64(len(gb)))
			for range b.N {
				io.Copy(io.Discard, transform.NewReader(bytes.NewReader(gb), d.t))
			}
		})
	}
}
