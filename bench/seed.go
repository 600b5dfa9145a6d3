package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"usercenter/core"
)

// Seeded users are numbered from 0; everything about user i follows from
// i and the run, so nothing but their UserIds is kept (seededUsers):
//
//	OriginId  s<run>-<i>
//	nickname  bench user <i>
//	phone     +86139 and i in 8 digits (a China Mobile range)
//	email     u<i>.<run>@bench.example

func appendOriginID(b []byte, run string, i int) []byte {
	b = append(b, 's')
	b = append(b, run...)
	b = append(b, '-')
	return strconv.AppendInt(b, int64(i), 10)
}

func appendNickname(b []byte, i int) []byte {
	return strconv.AppendInt(append(b, "bench user "...), int64(i), 10)
}

func appendPhone(b []byte, i int) []byte {
	b = append(b, "+86139"...)
	var d [8]byte
	for k, v := 7, i; k >= 0; k-- {
		d[k] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:]...)
}

func appendEmail(b []byte, run string, i int) []byte {
	b = strconv.AppendInt(append(b, 'u'), int64(i), 10)
	b = append(b, '.')
	b = append(b, run...)
	return append(b, "@bench.example"...)
}

// seed fills the app with cfg.Users users and keeps every one's UserId,
// so that reads draw from the whole table.
//
// The import path (the default) creates every user, phone and email
// included, through POST /v1/apps/{SdkAppId}/users:import,
// core.MaxBatchUsers a call, the fastest path the APIs offer. The batch
// path registers users through LCIC BatchRegister, core.MaxBatchUsers
// a call; its LCIC model has no phone or email, so every user gets
// them afterwards through PATCH /v1/users/{userId}, one request each. The REST path (POST /v1/apps/{SdkAppId}/users)
// gives every user a phone and an email, at one request a user.
func (e *env) seed(ctx context.Context) (SeedResult, error) {
	n := e.cfg.Users
	// Every user is kept, so that reads draw from the whole table and no
	// cache can hold what they touch: 20 bytes a user (see seededUsers).
	seeded := newSeededUsers(n)
	res := SeedResult{Path: seedPathName(e.cfg.Seed), Callers: e.cfg.SeedCallers}
	resetPeakRSS()
	serverRSS := e.watchServerRSS(false)
	start := time.Now()
	var errs map[string]uint64
	var failed uint64
	var created atomic.Int64 // users created with phone and email
	switch e.cfg.Seed {
	case SeedBatch:
		chunks := (n + core.MaxBatchUsers - 1) / core.MaxBatchUsers
		errs, failed = e.parallel("BatchRegister calls", e.cfg.SeedCallers, chunks, func(w *worker, c int) string {
			from := c * core.MaxBatchUsers
			return w.seedBatch(from, min(from+core.MaxBatchUsers, n), seeded)
		})
		res.Seconds = time.Since(start).Seconds()
		contactStart := time.Now()
		cerrs, cfailed := e.parallel("phones and emails", e.cfg.SeedCallers, n, func(w *worker, i int) string {
			if !seeded.has(i) {
				return "" // its batch failed, and was counted then
			}
			label := w.seedContacts(seeded.at(i))
			if label == "" {
				created.Add(1)
			} else {
				seeded.drop(i)
			}
			return label
		})
		res.ContactSeconds = time.Since(contactStart).Seconds()
		for k, v := range cerrs {
			errs["contacts: "+k] += v
		}
		failed += cfailed
	case SeedImport:
		chunks := (n + core.MaxBatchUsers - 1) / core.MaxBatchUsers
		errs, failed = e.parallel("import calls", e.cfg.SeedCallers, chunks, func(w *worker, c int) string {
			from := c * core.MaxBatchUsers
			to := min(from+core.MaxBatchUsers, n)
			label := w.seedImport(from, to, seeded)
			if label == "" {
				created.Add(int64(to - from))
			}
			return label
		})
		res.Seconds = time.Since(start).Seconds()
	default:
		errs, failed = e.parallel("users created", e.cfg.SeedCallers, n, func(w *worker, i int) string {
			label := w.seedREST(i, seeded)
			if label == "" {
				created.Add(1)
			}
			return label
		})
		res.Seconds = time.Since(start).Seconds()
	}
	res.PeakRSSBytes = e.notePeak(true)
	use := e.noteServerRSS(serverRSS, true)
	res.ServerRSSBytes, res.ServerCPUSeconds = use.rss, use.cpuSeconds
	res.Errors = failed
	if len(errs) > 0 {
		res.ErrorCodes = errs
	}
	seeded.keepSeeded()
	e.seeded = seeded
	res.ContactUsers = int(created.Load())
	res.Users = n
	if res.Seconds > 0 {
		res.UsersPerSec = float64(n) / res.Seconds
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if e.seeded.Len() == 0 {
		return res, fmt.Errorf("seeding failed: no user was created (%v)", errs)
	}
	total, err := e.countUsers()
	if err != nil {
		return res, fmt.Errorf("counting the app's users: %w", err)
	}
	res.AppUsers = total
	return res, nil
}

// seedImport creates users [from, to), each with its phone and email, in
// one import call.
func (w *worker) seedImport(from, to int, seeded *seededUsers) string {
	run := w.e.run
	b := append(w.body[:0], `{"users":[`...)
	for i := from; i < to; i++ {
		if i > from {
			b = append(b, ',')
		}
		b = append(b, `{"originId":"`...)
		b = appendOriginID(b, run, i)
		b = append(b, `","nickname":"`...)
		b = appendNickname(b, i)
		b = append(b, `","phone":"`...)
		b = appendPhone(b, i)
		b = append(b, `","email":"`...)
		b = appendEmail(b, run, i)
		b = append(b, `"}`...)
	}
	b = append(b, `]}`...)
	w.body = b
	s := w.slot
	s.prepare("POST", w.e.base, w.e.importPath, "", b)
	s.set("Content-Type", "application/json")
	s.set("Authorization", w.e.basicAuth)
	status, resp, err := s.do()
	if err != nil {
		return transportLabel(err)
	}
	if status != 201 {
		if code, ok := jsonStrAt(resp, "code"); ok {
			return httpLabel(status) + " " + string(code)
		}
		return httpLabel(status)
	}
	users, ok := jsonGet(resp, "users")
	if !ok {
		return "bad answer: importUsers without users"
	}
	i, bad := from, false
	ok = jsonEach(users, func(u []byte) bool {
		origin, ok1 := jsonStrAt(u, "originId")
		id, ok2 := jsonStrAt(u, "userId")
		w.tmp = appendOriginID(w.tmp[:0], run, i)
		if !ok1 || !ok2 || len(id) == 0 || string(origin) != string(w.tmp) || i >= to {
			bad = true
			return false
		}
		if seeded.set(i, id) != nil {
			bad = true
			return false
		}
		i++
		return true
	})
	if !ok || bad || i != to {
		for j := from; j < i; j++ {
			seeded.drop(j) // the call counts as failed: none of its users is picked
		}
		return "bad answer: importUsers did not list the users created, in order"
	}
	return ""
}

// seedREST creates user i with its phone and email.
func (w *worker) seedREST(i int, seeded *seededUsers) string {
	run := w.e.run
	b := append(w.body[:0], `{"originId":"`...)
	b = appendOriginID(b, run, i)
	b = append(b, `","nickname":"`...)
	b = appendNickname(b, i)
	b = append(b, `","phone":"`...)
	b = appendPhone(b, i)
	b = append(b, `","email":"`...)
	b = appendEmail(b, run, i)
	b = append(b, `"}`...)
	w.body = b
	s := w.slot
	s.prepare("POST", w.e.base, w.e.usersPath, "", b)
	s.set("Content-Type", "application/json")
	s.set("Authorization", w.e.basicAuth)
	status, resp, err := s.do()
	if err != nil {
		return transportLabel(err)
	}
	if status != 201 {
		if code, ok := jsonStrAt(resp, "code"); ok {
			return httpLabel(status) + " " + string(code)
		}
		return httpLabel(status)
	}
	id, ok := jsonStrAt(resp, "userId")
	if !ok || len(id) == 0 {
		return "bad answer: createUser without a userId"
	}
	if seeded.set(i, id) != nil {
		return errNotKSUID.Error()
	}
	return ""
}

// seedBatch registers users [from, to) in one BatchRegister call.
func (w *worker) seedBatch(from, to int, seeded *seededUsers) string {
	run := w.e.run
	b := append(w.body[:0], `{"Users":[`...)
	for i := from; i < to; i++ {
		if i > from {
			b = append(b, ',')
		}
		b = append(b, `{"SdkAppId":`...)
		b = append(b, w.e.appID...)
		b = append(b, `,"Name":"`...)
		b = appendNickname(b, i)
		b = append(b, `","OriginId":"`...)
		b = appendOriginID(b, run, i)
		b = append(b, `"}`...)
	}
	b = append(b, `]}`...)
	w.body = b
	resp, label := w.lcic("BatchRegister", b, time.Now())
	if label != "" {
		return label
	}
	users, ok := jsonGet(resp, "Response", "Users")
	if !ok {
		return "bad answer: BatchRegister without Users"
	}
	i, bad := from, false
	ok = jsonEach(users, func(u []byte) bool {
		origin, ok1 := jsonStrAt(u, "OriginId")
		id, ok2 := jsonStrAt(u, "UserId")
		w.tmp = appendOriginID(w.tmp[:0], run, i)
		if !ok1 || !ok2 || string(origin) != string(w.tmp) || i >= to {
			bad = true
			return false
		}
		if seeded.set(i, id) != nil {
			bad = true
			return false
		}
		i++
		return true
	})
	if !ok || bad || i != to {
		for j := from; j < i; j++ {
			seeded.drop(j)
		}
		return "bad answer: BatchRegister did not list the users registered, in order"
	}
	return ""
}

// seedContacts gives a batch-registered user its phone and email.
func (w *worker) seedContacts(u sampleUser) string {
	i := u.idx
	b := append(w.body[:0], `{"phone":"`...)
	b = appendPhone(b, i)
	b = append(b, `","email":"`...)
	b = appendEmail(b, w.e.run, i)
	b = append(b, `"}`...)
	w.body = b
	s := w.slot
	s.prepare("PATCH", w.e.base, "/v1/users/"+u.id, "", b)
	s.set("Content-Type", "application/merge-patch+json")
	s.set("Authorization", w.e.basicAuth)
	status, resp, err := s.do()
	if err != nil {
		return transportLabel(err)
	}
	if status != 200 {
		if code, ok := jsonStrAt(resp, "code"); ok {
			return httpLabel(status) + " " + string(code)
		}
		return httpLabel(status)
	}
	return ""
}

// countUsers asks the target how many users the app has.
func (e *env) countUsers() (int, error) {
	w := e.workers[0]
	b := append(w.body[:0], `{"SdkAppId":`...)
	b = append(b, e.appID...)
	b = append(b, `,"Page":1,"Limit":1}`...)
	w.body = b
	resp, label := w.lcic("DescribeSdkAppIdUsers", b, time.Now())
	if label != "" {
		return 0, errors.New(label)
	}
	raw, ok := jsonGet(resp, "Response", "Total")
	if n := parseDigits(raw); ok && n >= 0 {
		return n, nil
	}
	return 0, errors.New("bad answer: DescribeSdkAppIdUsers without a Total")
}
