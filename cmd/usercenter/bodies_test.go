package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"usercenter/tcapi"
	"usercenter/uctest"
)

// TestLargeBodiesOfStrangers sends the LCIC gateway a crowd of 10 MB
// bodies that name no live key, unsigned or signed with an unknown
// SecretId, 100 at once, and requires the server to refuse them all while
// its resident memory stays under 150 MB at its peak: a stranger's body is
// not read past its first 64 KiB. Then it checks that a signed body of
// more than 64 KiB is still served.
func TestLargeBodiesOfStrangers(t *testing.T) {
	skipShort(t)
	if raceEnabled {
		t.Skip("the race detector multiplies the server's memory; the bound is for a normal build")
	}
	const (
		parallel  = 100
		bodySize  = 10 << 20
		peakBound = 150 << 20
	)
	dir := t.TempDir()
	a := createApp(t, dir, "shop")
	p := startServer(t, dir)
	warmUp(t, p.addr, a)

	filler := bytes.Repeat([]byte("x"), bodySize)
	// A v1 form of bodySize bytes that starts as the SDKs start theirs,
	// with an unknown SecretId well within its first 64 KiB. It is signed
	// when its flood starts: signed at the start of the test, it could be
	// too old by then on a loaded machine (the floods before it move
	// 2 GB), and be refused as expired before its SecretId is looked at.
	v1Body := func() []byte {
		v1 := uctest.SignV1("POST", p.addr, "/", url.Values{
			"Action": {"RegisterUser"}, "Version": {tcapi.Version}, "SdkAppId": {strconv.FormatUint(a.SdkAppId, 10)},
		}, "AKIDunknownunknownunknownunknown1234", "secret", "HmacSHA256").Encode() + "&Name="
		return append([]byte(v1), filler[:bodySize-len(v1)]...)
	}
	unsigned := func() []byte { return filler }

	floods := []struct {
		name   string
		body   func() []byte
		header func(*http.Request)
		result string // the result code the server logs for each
	}{
		{"unsigned", unsigned, func(r *http.Request) {
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("X-TC-Action", "RegisterUser")
		}, "AuthFailure.InvalidAuthorization"},
		{"TC3 with an unknown SecretId", unsigned, func(r *http.Request) {
			r.Header.Set("X-TC-Action", "RegisterUser")
			r.Header.Set("X-TC-Version", tcapi.Version)
			// Signed over no body: the key is unknown, so no signature
			// could be right, and the server must not read on to see that.
			uctest.TC3Signer{SecretID: "AKIDunknownunknownunknownunknown1234", SecretKey: "secret"}.Sign(r, nil)
		}, "AuthFailure.SecretIdNotFound"},
		{"v1 with an unknown SecretId", v1Body, func(r *http.Request) {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}, "AuthFailure.SecretIdNotFound"},
	}
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: parallel}}
	for _, f := range floods {
		before := strings.Count(p.stderr.String(), `"result":"`+f.result+`"`)
		body := f.body()
		var (
			wg       sync.WaitGroup
			start    = make(chan struct{})
			mu       sync.Mutex
			answered = map[string]int{} // the code of each answer read, or the client's error
		)
		for range parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, err := http.NewRequest("POST", "http://"+p.addr+"/", bytes.NewReader(body))
				if err != nil {
					panic(err)
				}
				f.header(req)
				<-start
				outcome := "no answer"
				if resp, err := client.Do(req); err == nil {
					outcome = answerCode(resp)
				}
				mu.Lock()
				answered[outcome]++
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		t.Logf("%s: %d bodies of %d MB: %v", f.name, parallel, bodySize>>20, answered)
		for code, n := range answered {
			if code != f.result && code != "no answer" {
				t.Errorf("%s: %d answered %s, want %s", f.name, n, code, f.result)
			}
		}
		// Every request was served and refused, whether or not its client,
		// still sending, read the answer: the server logs each one.
		waitFor(t, 60*time.Second, func() error {
			if n := strings.Count(p.stderr.String(), `"result":"`+f.result+`"`) - before; n < parallel {
				return fmt.Errorf("%s: %d of %d requests logged as %s", f.name, n, parallel, f.result)
			}
			return nil
		})
		if peak := peakRSS(t, p.cmd.Process.Pid); peak > peakBound {
			t.Errorf("after %s: the server's peak resident memory is %d MB, want under %d MB", f.name, peak>>20, peakBound>>20)
		} else {
			t.Logf("after %s: peak resident memory %d MB", f.name, peak>>20)
		}
	}

	// A body over 64 KiB from a live key is read and served: 1000 users
	// of a BatchRegister, about 150 KB, in TC3 and in signature v1.
	c := newClient(p.addr, a.SecretId, a.SecretKey)
	req := uctest.NewBatchRegister()
	for i := range 1000 {
		req.Users = append(req.Users, &uctest.BatchUserRequest{SdkAppId: uctest.P(a.SdkAppId), Name: uctest.P(strings.Repeat("n", 100)), OriginId: uctest.P(fmt.Sprintf("large-%d", i))})
	}
	var out struct{ Users []struct{ UserId string } }
	if err := send(c, req, &out); err != nil || len(out.Users) != 1000 {
		t.Fatalf("a 150 KB BatchRegister of a live key: %d users, %v", len(out.Users), err)
	}
	params := url.Values{"Action": {"BatchRegister"}, "Version": {tcapi.Version}}
	for i := range 1000 {
		params.Set(fmt.Sprintf("Users.%d.SdkAppId", i), strconv.FormatUint(a.SdkAppId, 10))
		params.Set(fmt.Sprintf("Users.%d.Name", i), strings.Repeat("v", 100))
		params.Set(fmt.Sprintf("Users.%d.OriginId", i), fmt.Sprintf("large-v1-%d", i))
	}
	form := uctest.SignV1("POST", p.addr, "/", params, a.SecretId, a.SecretKey, "HmacSHA256").Encode()
	if len(form) < 64<<10 {
		t.Fatalf("the v1 form has %d bytes, not more than 64 KiB", len(form))
	}
	resp, err := client.Post("http://"+p.addr+"/", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	if code := answerCode(resp); code != "ok" {
		t.Fatalf("a %d KB v1 BatchRegister of a live key: %s", len(form)>>10, code)
	}
	p.stop()
}

// answerCode is the error code of an LCIC answer, "ok" for a success.
func answerCode(resp *http.Response) string {
	defer resp.Body.Close()
	var env struct {
		Response struct{ Error *struct{ Code string } }
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil || json.Unmarshal(raw, &env) != nil {
		return fmt.Sprintf("HTTP %d %.100q", resp.StatusCode, raw)
	}
	if env.Response.Error == nil {
		return "ok"
	}
	return env.Response.Error.Code
}

// peakRSS is the peak resident memory of process pid, VmHWM.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc to read the server's memory from: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// waitFor polls check until it returns nil, for at most d.
func waitFor(t *testing.T, d time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
