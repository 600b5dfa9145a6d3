package bench

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// defaultWrkRequests is how many pre-signed requests --emit-wrk writes for
// each LCIC script when --requests does not say.
const defaultWrkRequests = 100_000

// emitWrk writes, into dir, the data the Lua scripts of bench/wrk read,
// one item a line (a Lua table literal would pass LuaJIT's limit of 65,536
// constants a function): me.txt, the Authorization of logged-in seeded
// users; describe.txt, pre-signed LCIC DescribeUser requests of every
// seeded user in turn; and register.txt, pre-signed LCIC RegisterUser
// requests with new OriginIds. A request is its X-TC-Timestamp,
// Authorization and body, separated by tabs (none of them holds one).
// wrk cannot sign TC3 itself, and a TC3 timestamp is good for five
// minutes: run the scripts within that. TC3 carries no nonce, so the
// server's replay memory does not refuse a DescribeUser sent again; a
// RegisterUser sent again fails, its OriginId taken.
func (e *env) emitWrk(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if _, err := setupTokens(e); err != nil {
		return err
	}
	err := writeLines(filepath.Join(dir, "me.txt"), len(e.tokens), func(w *bufio.Writer, i int) {
		w.WriteString(e.tokens[i].bearer)
	})
	if err != nil {
		return err
	}
	now := time.Now()
	var st tc3State
	signed := func(w *bufio.Writer, body []byte, at time.Time) {
		ts, auth := e.tc3.sign(&st, body, at)
		w.WriteString(ts + "\t" + auth + "\t")
		w.Write(body)
	}
	err = writeLines(filepath.Join(dir, "describe.txt"), n, func(w *bufio.Writer, i int) {
		u := e.seeded.at(i % e.seeded.Len())
		signed(w, []byte(`{"UserId":"`+u.id+`"}`), now)
	})
	if err != nil {
		return err
	}
	return writeLines(filepath.Join(dir, "register.txt"), n, func(w *bufio.Writer, i int) {
		body := `{"SdkAppId":` + e.appID + `,"Name":"wrk register","OriginId":"w` + e.run + "-" + strconv.Itoa(i) + `"}`
		signed(w, []byte(body), now)
	})
}

// writeLines writes n items, one a line.
func writeLines(path string, n int, item func(w *bufio.Writer, i int)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	for i := range n {
		item(w, i)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
