package uctest

import (
	"net/http"
	"testing"
)

// BenchHTTP runs op as two sub-benchmarks, name+"serial" and
// name+"parallel": one client calling over and over, then as many
// goroutines as GOMAXPROCS sharing one client. Each client keeps enough
// idle connections for every goroutine, so that the figures measure the
// server rather than new connections.
func BenchHTTP(b *testing.B, name string, op func(b *testing.B, c *http.Client)) {
	b.Run(name+"serial", func(b *testing.B) {
		c := benchClient()
		b.ReportAllocs()
		for b.Loop() {
			op(b, c)
		}
	})
	b.Run(name+"parallel", func(b *testing.B) {
		c := benchClient()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				op(b, c)
			}
		})
	})
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
}
