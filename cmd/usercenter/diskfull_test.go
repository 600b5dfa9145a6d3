package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"usercenter/uctest/tmpfs"
)

// A server started again on a full disk serves reads, the session check
// included, while its writes fail as unavailable and /readyz says 503;
// once space is freed, writes work again without another restart. It is
// so after a clean stop, and after a kill -9 in the middle of writes that
// were failing on the full disk.
func TestDiskFullRestart(t *testing.T) {
	skipShort(t)
	mnt := tmpfs.Mount(t, "4m")
	dir := filepath.Join(mnt, "data")
	filler := filepath.Join(mnt, "filler")
	a := createApp(t, dir, "restart")
	p := startServer(t, dir)
	sess, err := register(newClient(p.addr, a.SecretId, a.SecretKey), a.SdkAppId, "Before", "before-full")
	if err != nil {
		t.Fatal(err)
	}

	// A clean stop, and the disk fills up before the next start.
	p.stop()
	tmpfs.Fill(t, filler)
	p = startServer(t, dir)
	checkReadsOnFullDisk(t, p, a, sess, "after a clean stop")
	freeAndRecover(t, p, a, filler, "clean")

	// Registrations run while the disk fills up, and the server is killed
	// while they still run, failing.
	var (
		stop     atomic.Bool
		failures atomic.Int32
		wg       sync.WaitGroup
	)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(p.addr, a.SecretId, a.SecretKey)
			for i := 0; !stop.Load(); i++ {
				if _, err := register(c, a.SdkAppId, strings.Repeat("n", 60), fmt.Sprintf("fill-%d-%d", w, i)); err != nil && !isNetworkError(err) {
					failures.Add(1)
				}
			}
		}()
	}
	tmpfs.Fill(t, filler)
	waitFor(t, time.Minute, func() error {
		if failures.Load() < 8 {
			return fmt.Errorf("%d registrations failed on the full disk", failures.Load())
		}
		return nil
	})
	p.signal(syscall.SIGKILL)
	p.wait(time.Minute)
	stop.Store(true)
	wg.Wait()
	tmpfs.Fill(t, filler) // whatever the killed process left room for

	p = startServer(t, dir)
	checkReadsOnFullDisk(t, p, a, sess, "after a kill -9")
	freeAndRecover(t, p, a, filler, "killed")
	p.stop()
}

// checkReadsOnFullDisk checks that a server on a full disk reads, through
// /v1 and LCIC, and that its writes fail as unavailable and make /readyz
// say 503.
func checkReadsOnFullDisk(t *testing.T, p *proc, a app, sess session, when string) {
	t.Helper()
	base := "http://" + p.addr
	r, _ := http.NewRequest(http.MethodGet, base, nil)
	r.SetBasicAuth(a.SecretId, a.SecretKey)
	if code, body := httpGet(t, base+"/v1/users/"+sess.UserId, r.Header); code != http.StatusOK {
		t.Errorf("GET /v1/users/{id} on a full disk %s: %d %s", when, code, body)
	}
	if code, body := httpGet(t, base+"/v1/me", http.Header{"Authorization": {"Bearer " + sess.Token}}); code != http.StatusOK {
		t.Errorf("GET /v1/me on a full disk %s: %d %s", when, code, body)
	}
	if u, err := describeUser(newClient(p.addr, a.SecretId, a.SecretKey), sess.UserId); err != nil || u.OriginId != "before-full" {
		t.Errorf("DescribeUser on a full disk %s: %+v, %v", when, u, err)
	}
	// The WAL may have room left for a write or two.
	for i := 0; ; i++ {
		code, retry, body := v1Create(t, base, a, fmt.Sprintf("full-%d-%s", i, strings.Repeat("x", 100)))
		if code == http.StatusCreated && i < 1000 {
			continue
		}
		if code != http.StatusServiceUnavailable || retry == "" || !strings.Contains(body, `"code":"unavailable"`) {
			t.Fatalf("POST /v1 users on a full disk %s: %d, Retry-After %q, %s", when, code, retry, body)
		}
		break
	}
	if code, _ := httpGet(t, base+"/readyz", nil); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz on a full disk %s, after a write failed: %d, want 503", when, code)
	}
}

// freeAndRecover frees the disk and checks that the server becomes ready
// and writes again, without a restart.
func freeAndRecover(t *testing.T, p *proc, a app, filler, tag string) {
	t.Helper()
	base := "http://" + p.addr
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, func() error { // the probe runs at most once a second
		if code, _ := httpGet(t, base+"/readyz", nil); code != http.StatusOK {
			return fmt.Errorf("/readyz %d a minute after space was freed", code)
		}
		return nil
	})
	if code, _, body := v1Create(t, base, a, "after-space-"+tag); code != http.StatusCreated {
		t.Fatalf("POST /v1 users after space was freed: %d %s", code, body)
	}
}
