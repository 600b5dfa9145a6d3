package bench

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// scenario is one kind of load. op runs one operation at time now and
// returns "" on success or what went wrong; it must check the answer, not
// just send the request.
type scenario struct {
	name     string
	kind     string
	describe func(e *env) string
	// setup runs before the timed window and says what it did.
	setup func(e *env) (string, error)
	op    func(w *worker, now time.Time) string
}

func fixed(s string) func(*env) string { return func(*env) string { return s } }

// The operations a scenario is made of; mixed counts them by kind.
const (
	opRegister = iota
	opLogin
	opDescribe
	opMe
	opNick
	opUserInfo
	numOps
)

var opNames = [numOps]string{"register", "login", "describe", "me", "superapp-nick", "enterprise-userinfo"}

var ops = [numOps]func(w *worker, now time.Time) string{
	opRegister: (*worker).register,
	opLogin:    (*worker).login,
	opDescribe: (*worker).describeUser,
	opMe:       (*worker).me,
	opNick:     (*worker).nick,
	opUserInfo: (*worker).userInfo,
}

var scenarios = map[string]*scenario{
	ScenarioRegister: {
		name: ScenarioRegister, kind: "write",
		describe: fixed("LCIC RegisterUser (TC3-HMAC-SHA256), each with a new OriginId: one durable write of the user, its audit event and its token"),
		op:       ops[opRegister],
	},
	ScenarioLogin: {
		name: ScenarioLogin, kind: "write",
		describe: fixed("LCIC LoginUser (TC3-HMAC-SHA256) of a random seeded user: one durable write of a token and the last login time"),
		setup:    needSample,
		op:       ops[opLogin],
	},
	ScenarioDescribe: {
		name: ScenarioDescribe, kind: "read",
		describe: fixed("LCIC DescribeUser (TC3-HMAC-SHA256) by UserId of a random seeded user; the answer's UserId is checked"),
		setup:    needSample,
		op:       ops[opDescribe],
	},
	ScenarioMe: {
		name: ScenarioMe, kind: "read",
		describe: fixed("GET /v1/me with the Bearer token of a random logged-in user; the answer's userId is checked"),
		setup:    setupTokens,
		op:       ops[opMe],
	},
	ScenarioNick: {
		name: ScenarioNick, kind: "read",
		describe: fixed("super-app getUserNick (TC-Signature) of a random seeded user; the nickname is checked"),
		setup:    needSample,
		op:       ops[opNick],
	},
	ScenarioPhone: {
		name: ScenarioPhone, kind: "write",
		describe: fixed("one op is the two-step flow: super-app getUserInfoTemporaryCode (Type phone) for a random seeded user, then getUserPhoneNumber with that single-use code; two requests, two durable writes (the code, then its use with an audited delivery); the delivered number is decrypted and checked"),
		setup:    needSample,
		op:       (*worker).phone,
	},
	ScenarioUserInfo: {
		name: ScenarioUserInfo, kind: "read",
		describe: func(e *env) string {
			if e.entPlain {
				return "enterprise userInfo of a random seeded user, with a key holding pii.read: plain phone and email, so each call also writes two audit events (a durable write); the answer's uid is checked"
			}
			return "enterprise userInfo of a random seeded user, with a key without pii.read: phone and email masked, a pure read; the answer's uid is checked"
		},
		setup: setupEnterprise,
		op:    ops[opUserInfo],
	},
	ScenarioSCIMFilter: {
		name: ScenarioSCIMFilter, kind: "read",
		describe: fixed(`SCIM GET /Users?filter=userName eq "<OriginId>" of a random seeded user, as a provider checks that a user exists, with a SCIM token without pii.read; the one resource's id is checked`),
		setup:    needSCIM,
		op:       (*worker).scimFilter,
	},
	ScenarioSCIMGet: {
		name: ScenarioSCIMGet, kind: "read",
		describe: fixed("SCIM GET /Users/{id} of a random seeded user, with a SCIM token without pii.read; the answer's id is checked"),
		setup:    needSCIM,
		op:       (*worker).scimGet,
	},
	ScenarioMixed: {
		name: ScenarioMixed, kind: "mixed",
		describe: fixed("90% reads and 10% writes: of every 10 operations of a connection, 9 are reads taking turns (describe, me, superapp-nick, enterprise-userinfo) and 1 a write taking turns (register, login)"),
		setup: func(e *env) (string, error) {
			a, err := setupTokens(e)
			if err != nil {
				return a, err
			}
			b, err := setupEnterprise(e)
			return a + "; " + b, err
		},
		op: (*worker).mixed,
	},
}

var baselineStatic = &scenario{
	name: BaselineStatic, kind: "baseline",
	describe: fixed("GET of a static 200-byte JSON document from a trivial handler on the same HTTP server stack (net/http, the server's timeouts) on loopback"),
	op:       (*worker).static,
}

var baselineLookup = &scenario{
	name: BaselineLookup, kind: "baseline",
	describe: func(e *env) string {
		rows := 0
		if e.baseline != nil {
			rows = e.baseline.rows
		}
		return fmt.Sprintf("GET of one row by primary key, at random, from a SQLite table of %d rows (as many as the app's users) through database/sql and modernc.org/sqlite over as many read connections as the store's, its four columns scanned and encoded as about 200 bytes of JSON, on the same server stack", rows)
	},
	op: (*worker).lookup,
}

func needSample(e *env) (string, error) {
	if e.seeded == nil || e.seeded.Len() == 0 {
		return "", errors.New("no seeded user to pick from")
	}
	return fmt.Sprintf("picks among all %d seeded users", e.seeded.Len()), nil
}

// needSCIM checks that the run has a SCIM token for the SCIM scenarios.
func needSCIM(e *env) (string, error) {
	if e.cfg.SCIMToken == "" {
		return "", errors.New("no SCIM token: --self makes one; with --target, pass --scim-token FILE, the output of `usercenter scim token create --app ID --json`")
	}
	return needSample(e)
}

// setupTokens logs in up to defaultTokenUsers seeded users through LCIC
// LoginUser, once per run, for /v1/me.
func setupTokens(e *env) (string, error) {
	if _, err := needSample(e); err != nil {
		return "", err
	}
	n := min(e.seeded.Len(), defaultTokenUsers)
	if len(e.tokens) < n {
		tokens := make([]tokenUser, n)
		errs, failed := e.parallel("logins", e.cfg.Connections, n, func(w *worker, i int) string {
			u := e.seeded.at(int(int64(i) * int64(e.seeded.Len()) / int64(n)))
			resp, label := w.lcicUser("LoginUser", u.id, time.Now())
			if label != "" {
				return label
			}
			tok, ok := jsonStrAt(resp, "Response", "Token")
			if !ok || len(tok) == 0 {
				return "bad answer: LoginUser without a Token"
			}
			tokens[i] = tokenUser{userID: u.id, bearer: "Bearer " + string(tok)}
			return ""
		})
		if failed > 0 {
			return "", fmt.Errorf("%d of %d logins failed: %v", failed, n, errs)
		}
		e.tokens = tokens
	}
	return fmt.Sprintf("%d seeded users logged in with LCIC LoginUser before the timed window", len(e.tokens)), nil
}

// setupEnterprise logs in once with the AccessKey login; every worker
// shares the access token, as the workers of one back office would.
func setupEnterprise(e *env) (string, error) {
	if _, err := needSample(e); err != nil {
		return "", err
	}
	if e.entAuth == "" {
		key := Key{SecretId: e.cfg.Creds.SecretId, SecretKey: e.cfg.Creds.SecretKey}
		if e.cfg.EnterpriseKey != nil {
			key = *e.cfg.EnterpriseKey
		}
		username, password := accessKeyLogin(key.SecretId, key.SecretKey, time.Now())
		q := "grant_type=password&username=" + url.QueryEscape(username) + "&password=" + password
		w := e.workers[0]
		w.slot.prepare("GET", e.base, "/v2/quecauth/accessKeyAuthrize/accessKeyLogin", q, nil)
		status, body, err := w.slot.do()
		if err != nil {
			return "", fmt.Errorf("accessKeyLogin: %s", transportLabel(err))
		}
		if label := enterpriseCheck(status, body); label != "" {
			return "", fmt.Errorf("accessKeyLogin: %s", label)
		}
		tok, ok := jsonStrAt(body, "access_token")
		if !ok || len(tok) == 0 {
			return "", errors.New("accessKeyLogin answered without an access_token")
		}
		e.entAuth = string(tok)
		// One call tells whether the key reveals phones: a plain answer is
		// also an audited write, and the report must say which was measured.
		w.slot.prepare("GET", e.base, "/v2/enduser/enterpriseapi/userInfo", "uid="+e.seeded.at(0).id, nil)
		w.slot.set("Authorization", e.entAuth)
		status, body, err = w.slot.do()
		if err != nil {
			return "", fmt.Errorf("userInfo: %s", transportLabel(err))
		}
		if label := enterpriseCheck(status, body); label != "" {
			return "", fmt.Errorf("userInfo: %s", label)
		}
		phone, _ := jsonStrAt(body, "data", "phone")
		e.entPlain = len(phone) > 0 && bytes.IndexByte(phone, '*') < 0
	}
	return "one accessKeyLogin before the timed window; every connection uses its access token", nil
}

// lcic sends one LCIC action with a JSON body and checks the envelope.
func (w *worker) lcic(action string, body []byte, now time.Time) ([]byte, string) {
	s := w.slot
	s.prepare("POST", w.e.base, "/", "", body)
	ts, auth := w.e.tc3.sign(&w.tc3, body, now)
	s.set("Content-Type", "application/json")
	s.set("X-Tc-Action", action)
	s.set("X-Tc-Version", lcicVer)
	s.set("X-Tc-Timestamp", ts)
	s.set("X-Tc-Language", "en-US")
	s.set("Authorization", auth)
	status, resp, err := s.do()
	if err != nil {
		return nil, transportLabel(err)
	}
	if status != 200 {
		return nil, httpLabel(status)
	}
	if code, ok := jsonStrAt(resp, "Response", "Error", "Code"); ok {
		return nil, "LCIC " + string(code)
	}
	if _, ok := jsonGet(resp, "Response", "RequestId"); !ok {
		return nil, "bad answer: no Response.RequestId"
	}
	return resp, ""
}

// lcicUser sends an action whose only parameter is a UserId.
func (w *worker) lcicUser(action, userID string, now time.Time) ([]byte, string) {
	b := append(w.body[:0], `{"UserId":"`...)
	b = append(b, userID...)
	b = append(b, `"}`...)
	w.body = b
	return w.lcic(action, b, now)
}

func (w *worker) register(now time.Time) string {
	w.regN++
	b := append(w.body[:0], `{"SdkAppId":`...)
	b = append(b, w.e.appID...)
	b = append(b, `,"Name":"bench register","OriginId":"`...)
	b = append(b, w.regPrefix...)
	b = strconv.AppendUint(b, w.regN, 10)
	b = append(b, `"}`...)
	w.body = b
	resp, label := w.lcic("RegisterUser", b, now)
	if label != "" {
		return label
	}
	if tok, ok := jsonStrAt(resp, "Response", "Token"); !ok || len(tok) == 0 {
		return "bad answer: RegisterUser without a Token"
	}
	return ""
}

func (w *worker) login(now time.Time) string {
	u := w.pick()
	resp, label := w.lcicUser("LoginUser", u.id, now)
	if label != "" {
		return label
	}
	if tok, ok := jsonStrAt(resp, "Response", "Token"); !ok || len(tok) == 0 {
		return "bad answer: LoginUser without a Token"
	}
	return ""
}

func (w *worker) describeUser(now time.Time) string {
	u := w.pick()
	resp, label := w.lcicUser("DescribeUser", u.id, now)
	if label != "" {
		return label
	}
	if id, ok := jsonStrAt(resp, "Response", "UserId"); !ok || string(id) != u.id {
		return "bad answer: DescribeUser of another user"
	}
	return ""
}

func (w *worker) me(time.Time) string {
	t := &w.e.tokens[w.rng.IntN(len(w.e.tokens))]
	s := w.slot
	s.prepare("GET", w.e.base, "/v1/me", "", nil)
	s.set("Authorization", t.bearer)
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
	if id, ok := jsonStrAt(resp, "userId"); !ok || string(id) != t.userID {
		return "bad answer: /v1/me of another user"
	}
	return ""
}

// superapp posts one super-app call and checks the envelope.
func (w *worker) superapp(path string, body []byte, now time.Time) ([]byte, string) {
	s := w.slot
	s.prepare("POST", w.e.base, path, "", body)
	ts, sig := w.e.sa.headers(&w.sa, now)
	s.set("Content-Type", "application/json")
	s.set("Tc-Timestamp", ts)
	s.set("Tc-Signature", sig)
	status, resp, err := s.do()
	if err != nil {
		return nil, transportLabel(err)
	}
	code, ok := jsonScalar(resp, "ReturnCode")
	switch {
	case status != 200 && ok:
		return nil, httpLabel(status) + " ReturnCode " + string(code)
	case status != 200:
		return nil, httpLabel(status)
	case !ok:
		return nil, "bad answer: no ReturnCode"
	case string(code) != "0":
		return nil, "ReturnCode " + string(code)
	}
	return resp, ""
}

func (w *worker) nick(now time.Time) string {
	u := w.pick()
	b := append(w.body[:0], `{"UserId":"`...)
	b = append(b, u.id...)
	b = append(b, `"}`...)
	w.body = b
	resp, label := w.superapp(w.e.saNick, b, now)
	if label != "" {
		return label
	}
	w.tmp = appendNickname(w.tmp[:0], u.idx)
	if nick, ok := jsonStrAt(resp, "Data"); !ok || !bytes.Equal(nick, w.tmp) {
		return "bad answer: getUserNick of another user"
	}
	return ""
}

func (w *worker) phone(now time.Time) string {
	u := w.pick()
	b := append(w.body[:0], `{"UserId":"`...)
	b = append(b, u.id...)
	b = append(b, `","Type":"phone"}`...)
	w.body = b
	resp, label := w.superapp(w.e.saCode, b, now)
	if label != "" {
		return "getUserInfoTemporaryCode: " + label
	}
	code, ok := jsonStrAt(resp, "Data", "code")
	if !ok || len(code) == 0 {
		return "bad answer: getUserInfoTemporaryCode without a code"
	}
	// The code lives in the answer's buffer, which the next request
	// reuses: copy it into the body first.
	b = append(w.body[:0], `{"UserId":"`...)
	b = append(b, u.id...)
	b = append(b, `","TemporaryCode":"`...)
	b = append(b, code...)
	b = append(b, `"}`...)
	w.body = b
	resp, label = w.superapp(w.e.saPhone, b, time.Now())
	if label != "" {
		return "getUserPhoneNumber: " + label
	}
	value, ok := jsonStrAt(resp, "Data")
	if !ok {
		return "bad answer: getUserPhoneNumber without Data"
	}
	plain, err := w.e.sa.decrypt(w.tmp[:0], value)
	if err != nil {
		return "bad answer: the delivered phone number does not decrypt"
	}
	w.tmp = plain
	w.want = appendPhone(w.want[:0], u.idx)
	if !bytes.Equal(plain, w.want) {
		return "bad answer: the delivered phone number is another user's"
	}
	return ""
}

func (w *worker) userInfo(time.Time) string {
	u := w.pick()
	s := w.slot
	s.prepare("GET", w.e.base, "/v2/enduser/enterpriseapi/userInfo", "uid="+u.id, nil)
	s.set("Authorization", w.e.entAuth)
	status, resp, err := s.do()
	if err != nil {
		return transportLabel(err)
	}
	if label := enterpriseCheck(status, resp); label != "" {
		return label
	}
	if id, ok := jsonStrAt(resp, "data", "uid"); !ok || string(id) != u.id {
		return "bad answer: userInfo of another user"
	}
	return ""
}

// scimFilter looks a user up by userName, as Entra and Okta do before
// they create one.
func (w *worker) scimFilter(time.Time) string {
	u := w.pick()
	q := append(w.tmp[:0], `filter=userName%20eq%20%22`...)
	q = appendOriginID(q, w.e.run, u.idx)
	q = append(q, `%22`...)
	w.tmp = q
	resp, label := w.scim(string(q), w.e.scimUsers)
	if label != "" {
		return label
	}
	if n, ok := jsonScalar(resp, "totalResults"); !ok || string(n) != "1" {
		return "bad answer: not one user"
	}
	res, _ := jsonGet(resp, "Resources")
	found := false
	jsonEach(res, func(elem []byte) bool {
		id, ok := jsonStrAt(elem, "id")
		found = ok && string(id) == u.id
		return false
	})
	if !found {
		return "bad answer: another user"
	}
	return ""
}

func (w *worker) scimGet(time.Time) string {
	u := w.pick()
	resp, label := w.scim("", w.e.scimUsers+"/"+u.id)
	if label != "" {
		return label
	}
	if id, ok := jsonStrAt(resp, "id"); !ok || string(id) != u.id {
		return "bad answer: another user"
	}
	return ""
}

// scim sends one SCIM GET and checks the status; an error's scimType or
// status is in the label.
func (w *worker) scim(rawQuery, path string) ([]byte, string) {
	s := w.slot
	s.prepare("GET", w.e.base, path, rawQuery, nil)
	s.set("Authorization", w.e.scimAuth)
	status, resp, err := s.do()
	if err != nil {
		return nil, transportLabel(err)
	}
	if status != 200 {
		if t, ok := jsonStrAt(resp, "scimType"); ok {
			return nil, httpLabel(status) + " " + string(t)
		}
		return nil, httpLabel(status)
	}
	return resp, ""
}

// enterpriseCheck checks the enterprise envelope: HTTP 200, code 200.
func enterpriseCheck(status int, body []byte) string {
	code, ok := jsonScalar(body, "code")
	switch {
	case status != 200:
		return httpLabel(status)
	case !ok:
		return "bad answer: no code"
	case string(code) != "200":
		return "code " + string(code)
	}
	return ""
}

func (w *worker) mixed(now time.Time) string {
	w.seq++
	var k int
	if w.seq%10 == 0 {
		k = [2]int{opRegister, opLogin}[(w.seq/10)%2]
	} else {
		k = [4]int{opDescribe, opMe, opNick, opUserInfo}[w.reads%4]
		w.reads++
	}
	label := ops[k](w, now)
	if label == "" {
		w.kinds[k].OK++
	} else {
		w.kinds[k].Errors++
	}
	return label
}

func (w *worker) static(time.Time) string {
	s := w.slot
	s.prepare("GET", w.e.baseline.base, "/static", "", nil)
	status, resp, err := s.do()
	if err != nil {
		return transportLabel(err)
	}
	if status != 200 {
		return httpLabel(status)
	}
	if len(resp) != len(staticDoc) {
		return "bad answer: not the static document"
	}
	return ""
}

func (w *worker) lookup(time.Time) string {
	bl := w.e.baseline
	id := 1 + w.rng.IntN(bl.rows)
	w.tmp = strconv.AppendInt(append(w.tmp[:0], "/lookup/"...), int64(id), 10)
	s := w.slot
	s.prepare("GET", bl.base, string(w.tmp), "", nil)
	status, resp, err := s.do()
	if err != nil {
		return transportLabel(err)
	}
	if status != 200 {
		return httpLabel(status)
	}
	if got, ok := jsonGet(resp, "id"); !ok || parseDigits(got) != id {
		return "bad answer: another row"
	}
	return ""
}

// parseDigits reads a non-negative decimal number, -1 if b is not one.
func parseDigits(b []byte) int {
	if len(b) == 0 || len(b) > 18 {
		return -1
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}
