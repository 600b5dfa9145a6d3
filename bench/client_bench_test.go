package bench

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The load generator's own cost per request, against a canned responder
// that allocates almost nothing, so that the figures are the client's:
//
//	go test ./bench -run '^$' -bench Client -benchmem
//
// Nearly every allocation left is net/http's Transport (its per-request
// contexts, timer, response header map); the bench's code adds one
// string per request.

// cannedServer answers every request on a raw connection with body.
func cannedServer(b *testing.B, body string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					n := 0
					for {
						line, err := r.ReadSlice('\n')
						if err != nil {
							return
						}
						if len(line) > 15 && strings.EqualFold(string(line[:15]), "content-length:") {
							n, _ = strconv.Atoi(strings.TrimSpace(string(line[15:])))
						}
						if len(line) == 2 {
							break
						}
					}
					r.Discard(n)
					c.Write(resp)
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func benchClient(b *testing.B, body string, prepare func(*env), op func(*worker, time.Time) string) {
	cfg := testConfig(cannedServer(b, body))
	e := testEnv(b, &cfg)
	prepare(e)
	w := e.workers[0]
	b.ReportAllocs()
	for b.Loop() {
		if label := op(w, time.Now()); label != "" {
			b.Fatal(label)
		}
	}
}

const benchUserID = "2zNkbGhJ3Rf6H4oqQ2nX5c9cVxV"

func BenchmarkClientDescribe(b *testing.B) {
	benchClient(b, `{"Response":{"SdkAppId":1400000001,"UserId":"`+benchUserID+`","Name":"bench user 1","Avatar":"","OriginId":"s1-1","RequestId":"7f1e1e1e-1e1e-1e1e-1e1e-1e1e1e1e1e1e"}}`,
		func(e *env) { e.seeded = mustSeeded(b, sampleUser{id: benchUserID, idx: 1}) }, (*worker).describeUser)
}

func BenchmarkClientMe(b *testing.B) {
	benchClient(b, `{"userId":"`+benchUserID+`","nickname":"bench user 1"}`,
		func(e *env) { e.tokens = []tokenUser{{userID: benchUserID, bearer: "Bearer abc"}} }, (*worker).me)
}
