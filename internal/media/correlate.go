package media

import (
	"math"
	"math/bits"
	"math/cmplx"
)

// Locate finds where needle occurs in haystack by normalised
// cross-correlation: offset is the sample index in haystack where the best
// match starts, and score its correlation coefficient (1 for an exact,
// possibly scaled, copy; near 0 for unrelated audio). It reports (-1, 0)
// when needle is empty, silent or longer than haystack. It uses an FFT, so
// it costs O(n log n) time and about 32 bytes per sample of haystack plus
// needle: a test's tool, for clips of seconds to a few minutes.
func Locate(haystack, needle Audio) (offset int, score float64) {
	h, nd := haystack.Samples, needle.Samples
	n, m := len(h), len(nd)
	if m == 0 || n < m {
		return -1, 0
	}
	var ne float64
	for _, v := range nd {
		ne += float64(v) * float64(v)
	}
	if ne == 0 {
		return -1, 0
	}
	size := 1 << bits.Len(uint(n+m-1))
	a := make([]complex128, size)
	b := make([]complex128, size)
	for i, v := range h {
		a[i] = complex(float64(v), 0)
	}
	for i, v := range nd {
		b[i] = complex(float64(v), 0)
	}
	fft(a, false)
	fft(b, false)
	for i := range a {
		a[i] *= cmplx.Conj(b[i])
	}
	fft(a, true)
	// energy of each haystack window, by prefix sums
	prefix := make([]float64, n+1)
	for i, v := range h {
		prefix[i+1] = prefix[i] + float64(v)*float64(v)
	}
	offset, score = -1, 0
	for k := 0; k+m <= n; k++ {
		we := prefix[k+m] - prefix[k]
		if we <= 0 {
			continue
		}
		c := real(a[k]) / float64(size) / math.Sqrt(we*ne)
		if c > score {
			offset, score = k, c
		}
	}
	if offset < 0 {
		return -1, 0
	}
	return offset, score
}

// fft is an in-place iterative radix-2 FFT; len(x) must be a power of two.
// The inverse is unscaled.
func fft(x []complex128, inverse bool) {
	n := len(x)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j |= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	sign := -1.0
	if inverse {
		sign = 1
	}
	for size := 2; size <= n; size <<= 1 {
		step := cmplx.Exp(complex(0, sign*2*math.Pi/float64(size)))
		for start := 0; start < n; start += size {
			w := complex(1, 0)
			for k := range size / 2 {
				u, v := x[start+k], x[start+k+size/2]*w
				x[start+k], x[start+k+size/2] = u+v, u-v
				w *= step
			}
		}
	}
}
