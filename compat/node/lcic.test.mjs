// Compatibility test: the official Tencent Cloud Node.js SDKs against usercenter's
// LCIC (2022-08-17) user actions, configured the way a new user would configure them:
// only the endpoint ("127.0.0.1:PORT") and protocol ("http://") are changed.
//
// Run:  USERCENTER_ENDPOINT=127.0.0.1:18080 USERCENTER_SECRET_ID=... \
//       USERCENTER_SECRET_KEY=... USERCENTER_SDK_APP_ID=... \
//       node --test --test-concurrency=1 lcic.test.mjs
//
// See FINDINGS.md for what each SDK/mode puts on the wire.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import tcCommon from "tencentcloud-sdk-nodejs-common";
import tcIntl from "tencentcloud-sdk-nodejs-intl-en";

// ---------------------------------------------------------------------------------------------
// Configuration from the environment: missing values are a hard failure, never a skip.
// ---------------------------------------------------------------------------------------------
const REQUIRED = ["USERCENTER_ENDPOINT", "USERCENTER_SECRET_ID", "USERCENTER_SECRET_KEY", "USERCENTER_SDK_APP_ID"];
const missing = REQUIRED.filter((k) => !process.env[k]);
if (missing.length) {
  throw new Error(
    `lcic.test.mjs: missing required environment variable(s): ${missing.join(", ")}. ` +
      `Set USERCENTER_ENDPOINT (e.g. 127.0.0.1:18080), USERCENTER_SECRET_ID, USERCENTER_SECRET_KEY, USERCENTER_SDK_APP_ID.`,
  );
}
const ENDPOINT = process.env.USERCENTER_ENDPOINT;
const SECRET_ID = process.env.USERCENTER_SECRET_ID;
const SECRET_KEY = process.env.USERCENTER_SECRET_KEY;
if (ENDPOINT.includes("://") || ENDPOINT.includes("/")) {
  throw new Error(`USERCENTER_ENDPOINT must be host:port without scheme or path, got ${JSON.stringify(ENDPOINT)}`);
}
if (!/^[1-9][0-9]*$/.test(process.env.USERCENTER_SDK_APP_ID)) {
  throw new Error(`USERCENTER_SDK_APP_ID must be a positive integer, got ${JSON.stringify(process.env.USERCENTER_SDK_APP_ID)}`);
}
const SDK_APP_ID = Number(process.env.USERCENTER_SDK_APP_ID);
// The same server spelled "localhost:PORT" (only when the endpoint is 127.0.0.1:PORT). With it the
// Node SDKs sign TC3 with credential-scope service "localhost:PORT" (endpoint.split(".")[0]).
const LOCALHOST_ENDPOINT = /^127\.0\.0\.1:\d+$/.test(ENDPOINT) ? ENDPOINT.replace(/^127\.0\.0\.1/, "localhost") : null;
// An SdkAppId that no deployment under test should have.
const UNKNOWN_SDK_APP_ID = SDK_APP_ID === 3999999999 ? 3999999998 : 3999999999;

// Both SDKs route every request through https-proxy-agent when `http_proxy` is set and ignore
// `no_proxy`, which would send loopback traffic to a proxy. This test only talks to loopback.
delete process.env.http_proxy;
delete process.env.HTTP_PROXY;

const AVATAR = "https://example.com/a.png";
const USER_ID_RE = /^[0-9A-Za-z]{27}$/;
const runId = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
let seq = 0;
const uniq = (tag) => `compat-node-${runId}-${tag}-${++seq}`;

// The server enforces a per-(app, action) rate limit (20 req/s by default, like LCIC), and this
// suite sends bursts of the same action. Unlike the Go SDK (RateLimitExceededMaxRetries), the
// Node SDKs have no built-in retry, so a RequestLimitExceeded answer is retried here with a
// bounded backoff (at most ~6 s per call). Retries are counted and printed at the end.
let rateLimitRetries = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function retryOnRateLimit(fn) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (e && e.code === "RequestLimitExceeded" && attempt < 12) {
        rateLimitRetries++;
        await sleep(100 * attempt);
        continue;
      }
      throw e;
    }
  }
}
after(() => console.log(`rate-limit retries (RequestLimitExceeded): ${rateLimitRetries}`));

// ---------------------------------------------------------------------------------------------
// Client factories, one per SDK/signing mode.
// Each returns { call(action, params), generic(action, params) } resolving to the plain
// `Response` object (minus nothing) or rejecting with the SDK's exception.
// ---------------------------------------------------------------------------------------------

// tencentcloud-sdk-nodejs-common 4.x: CommonClient(endpoint, version, {credential, region, profile}).
function makeCommonSdk(signMethod, secretKey = SECRET_KEY, endpoint = ENDPOINT) {
  const profile = { httpProfile: { endpoint, protocol: "http://" } };
  if (signMethod) profile.signMethod = signMethod;
  const client = new tcCommon.CommonClient("lcic.tencentcloudapi.com", "2022-08-17", {
    credential: { secretId: SECRET_ID, secretKey },
    region: "",
    profile,
  });
  const generic = (action, params) => retryOnRateLimit(() => client.request(action, params));
  return { call: generic, generic };
}

// tencentcloud-sdk-nodejs-intl-en 3.x: typed tencentcloud.lcic.v20220817.Client, callback API.
// Actions missing from the typed client (DescribeUserDetail, DeleteUser) go through the same
// package's CommonClient with the same credential and profile, i.e. the same signing mode.
function makeIntlSdk(signMethod, secretKey = SECRET_KEY, endpoint = ENDPOINT) {
  const { Credential, ClientProfile, HttpProfile, CommonClient } = tcIntl.common;
  const LcicClient = tcIntl.lcic.v20220817.Client;
  const Models = tcIntl.lcic.v20220817.Models;
  const cred = new Credential(SECRET_ID, secretKey);
  const httpProfile = new HttpProfile();
  httpProfile.endpoint = endpoint;
  httpProfile.protocol = "http://";
  const clientProfile = new ClientProfile();
  clientProfile.httpProfile = httpProfile;
  if (signMethod) clientProfile.signMethod = signMethod;
  const client = new LcicClient(cred, "", clientProfile);
  const common = new CommonClient("lcic.intl.tencentcloudapi.com", "2022-08-17", cred, "", clientProfile);

  const call = (action, params) =>
    retryOnRateLimit(() => new Promise((resolve, reject) => {
      if (typeof client[action] !== "function") {
        reject(new Error(`intl-en typed LcicClient has no method ${action}`));
        return;
      }
      const req = new Models[`${action}Request`]();
      req.from_json_string(JSON.stringify(params));
      client[action](req, (err, resp) => (err ? reject(err) : resolve(resp)));
    }));
  const generic = (action, params) =>
    retryOnRateLimit(() => new Promise((resolve, reject) => {
      common.request(action, params, (err, resp) => (err ? reject(err) : resolve(resp)));
    }));
  return { call, generic };
}

const MODES = [
  { name: "common 4.x, default signing (TC3-HMAC-SHA256)", make: (k) => makeCommonSdk(undefined, k), sig: "TC3" },
  { name: "common 4.x, signMethod TC3-HMAC-SHA256", make: (k) => makeCommonSdk("TC3-HMAC-SHA256", k), sig: "TC3" },
  { name: "common 4.x, signMethod HmacSHA256 (v1)", make: (k) => makeCommonSdk("HmacSHA256", k), sig: "v1" },
  { name: "intl-en 3.x typed LcicClient, default signing (HmacSHA256 v1)", make: (k) => makeIntlSdk(undefined, k), sig: "v1" },
  { name: "intl-en 3.x typed LcicClient, signMethod TC3-HMAC-SHA256", make: (k) => makeIntlSdk("TC3-HMAC-SHA256", k), sig: "TC3" },
];

// ---------------------------------------------------------------------------------------------
// Assertion helpers
// ---------------------------------------------------------------------------------------------
function assertRequestId(resp) {
  assert.equal(typeof resp.RequestId, "string", `RequestId missing in ${JSON.stringify(resp)}`);
  assert.ok(resp.RequestId.length > 0, "RequestId is empty");
}

function assertToken(token) {
  assert.equal(typeof token, "string", `Token is not a string: ${JSON.stringify(token)}`);
  assert.ok(token.length >= 16, `Token too short: ${JSON.stringify(token)}`);
}

// Both SDKs throw TencentCloudSDKHttpException with .code = Error.Code, .message = Error.Message,
// .requestId = RequestId when the server answers HTTP 200 {"Response":{"Error":{...}}}.
async function assertTcError(promise, code) {
  let err;
  try {
    const resp = await promise;
    assert.fail(`expected error ${code}, got success ${JSON.stringify(resp)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  assert.ok(err instanceof Error, `not an Error: ${err}`);
  assert.equal(err.constructor.name, "TencentCloudSDKHttpException", `unexpected exception: ${err && err.stack}`);
  assert.equal(err.httpCode, undefined, `server answered HTTP ${err.httpCode} (${err.message}); API errors must be HTTP 200`);
  assert.equal(err.code, code, `expected code ${code}, got ${err.code} (message: ${err.message})`);
  assert.equal(typeof err.message, "string");
  assert.ok(err.message.length > 0, "error Message is empty");
  assert.equal(typeof err.requestId, "string");
  assert.ok(err.requestId.length > 0, "error RequestId is empty");
  return err;
}

// ---------------------------------------------------------------------------------------------
// The suite, once per SDK/signing mode.
// ---------------------------------------------------------------------------------------------
for (const mode of MODES) {
  describe(mode.name, () => {
    const api = mode.make();
    const user = { originId: uniq("u"), name: `Alice ${mode.sig} ${runId}`, userId: "", token: "" };
    const registered = new Set();

    it("RegisterUser returns a 27-char UserId and a Token", async () => {
      const resp = await api.call("RegisterUser", {
        SdkAppId: SDK_APP_ID,
        Name: user.name,
        OriginId: user.originId,
        Avatar: AVATAR,
      });
      assert.match(resp.UserId, USER_ID_RE);
      assertToken(resp.Token);
      assertRequestId(resp);
      user.userId = resp.UserId;
      user.token = resp.Token;
      registered.add(resp.UserId);
    });

    it("DescribeUser returns SdkAppId/UserId/Name/Avatar/OriginId", async () => {
      assert.ok(user.userId, "RegisterUser did not succeed");
      const resp = await api.call("DescribeUser", { UserId: user.userId });
      assert.equal(resp.SdkAppId, SDK_APP_ID);
      assert.equal(resp.UserId, user.userId);
      assert.equal(resp.Name, user.name);
      assert.equal(resp.Avatar, AVATAR);
      assert.equal(resp.OriginId, user.originId);
      assertRequestId(resp);
    });

    it("ModifyUserProfile(Nickname) is visible in DescribeUser", async () => {
      assert.ok(user.userId, "RegisterUser did not succeed");
      const nickname = `Renamed ${mode.sig} ${runId} 名字`;
      const mod = await api.call("ModifyUserProfile", { UserId: user.userId, Nickname: nickname });
      assertRequestId(mod);
      const resp = await api.call("DescribeUser", { UserId: user.userId });
      assert.equal(resp.Name, nickname);
      assert.equal(resp.Avatar, AVATAR, "Avatar must be unchanged when only Nickname is modified");
      assert.equal(resp.OriginId, user.originId);
      user.name = nickname;
    });

    it("LoginUser and LoginOriginId each issue a new Token", async () => {
      assert.ok(user.userId, "RegisterUser did not succeed");
      const a = await api.call("LoginUser", { UserId: user.userId });
      assert.equal(a.UserId, user.userId);
      assertToken(a.Token);
      assert.notEqual(a.Token, user.token, "LoginUser returned the RegisterUser token again");
      assertRequestId(a);

      const b = await api.call("LoginOriginId", { SdkAppId: SDK_APP_ID, OriginId: user.originId });
      assert.equal(b.UserId, user.userId);
      assertToken(b.Token);
      assert.notEqual(b.Token, a.Token, "LoginOriginId returned the LoginUser token again");
      assert.notEqual(b.Token, user.token, "LoginOriginId returned the RegisterUser token again");
      assertRequestId(b);
    });

    it("BatchRegister of 3 users returns 3 results with UserIds", async () => {
      const input = [1, 2, 3].map((i) => ({
        SdkAppId: SDK_APP_ID,
        Name: `Batch ${i} ${mode.sig}`,
        OriginId: uniq(`b${i}`),
        Avatar: AVATAR,
      }));
      const resp = await api.call("BatchRegister", { Users: input });
      assertRequestId(resp);
      assert.ok(Array.isArray(resp.Users), `Users is not an array: ${JSON.stringify(resp)}`);
      assert.equal(resp.Users.length, 3);
      const byOrigin = new Map(resp.Users.map((u) => [u.OriginId, u]));
      for (const u of input) {
        const got = byOrigin.get(u.OriginId);
        assert.ok(got, `no result for OriginId ${u.OriginId} in ${JSON.stringify(resp.Users)}`);
        assert.match(got.UserId, USER_ID_RE);
        assert.equal(got.SdkAppId, SDK_APP_ID);
        registered.add(got.UserId);
      }
      assert.equal(new Set(resp.Users.map((u) => u.UserId)).size, 3, "BatchRegister returned duplicate UserIds");

      // The batch users are real users: DescribeUser finds them with the given profile.
      const first = byOrigin.get(input[0].OriginId);
      const d = await api.call("DescribeUser", { UserId: first.UserId });
      assert.equal(d.Name, input[0].Name);
      assert.equal(d.OriginId, input[0].OriginId);
      assert.equal(d.Avatar, AVATAR);
      assert.equal(d.SdkAppId, SDK_APP_ID);
    });

    it("DescribeSdkAppIdUsers(Page 1, Limit 10) counts the registered users", async () => {
      assert.ok(registered.size >= 4, "RegisterUser/BatchRegister did not succeed");
      const resp = await api.call("DescribeSdkAppIdUsers", { SdkAppId: SDK_APP_ID, Page: 1, Limit: 10 });
      assertRequestId(resp);
      assert.equal(typeof resp.Total, "number", `Total is not a number: ${JSON.stringify(resp.Total)}`);
      assert.ok(resp.Total >= registered.size, `Total ${resp.Total} < ${registered.size} users registered by this suite`);
      assert.ok(Array.isArray(resp.Users), `Users is not an array: ${JSON.stringify(resp)}`);
      assert.equal(resp.Users.length, Math.min(10, resp.Total));
      for (const u of resp.Users) {
        assert.equal(u.SdkAppId, SDK_APP_ID);
        assert.match(u.UserId, USER_ID_RE);
        assert.equal(typeof u.Name, "string");
        assert.equal(typeof u.OriginId, "string");
      }
    });

    it("DescribeUserDetail (generic request) returns the user", async () => {
      assert.ok(user.userId, "RegisterUser did not succeed");
      const resp = await api.generic("DescribeUserDetail", { UserId: user.userId });
      assertRequestId(resp);
      assert.ok(Array.isArray(resp.Users), `Users is not an array: ${JSON.stringify(resp)}`);
      assert.equal(resp.Users.length, 1);
      const [u] = resp.Users;
      assert.equal(u.UserId, user.userId);
      assert.equal(u.SdkAppId, SDK_APP_ID);
      assert.equal(u.Name, user.name);
      assert.equal(u.Avatar, AVATAR);
      assert.equal(u.OriginId, user.originId);
    });

    it("DeleteUser (generic request), then DescribeUser fails with ResourceNotFound.User", async () => {
      assert.ok(user.userId, "RegisterUser did not succeed");
      const del = await api.generic("DeleteUser", { UserId: user.userId });
      assertRequestId(del);
      await assertTcError(api.call("DescribeUser", { UserId: user.userId }), "ResourceNotFound.User");
      await assertTcError(api.call("LoginUser", { UserId: user.userId }), "ResourceNotFound.User");
    });

    it("RegisterUser with an existing OriginId fails with FailedOperation.OriginIdExists", async () => {
      const originId = uniq("dup");
      const first = await api.call("RegisterUser", { SdkAppId: SDK_APP_ID, Name: "dup", OriginId: originId, Avatar: AVATAR });
      assert.match(first.UserId, USER_ID_RE);
      await assertTcError(
        api.call("RegisterUser", { SdkAppId: SDK_APP_ID, Name: "dup again", OriginId: originId, Avatar: AVATAR }),
        "FailedOperation.OriginIdExists",
      );
      // The first registration is intact.
      const d = await api.call("DescribeUser", { UserId: first.UserId });
      assert.equal(d.Name, "dup");
      assert.equal(d.OriginId, originId);
    });

    it("a wrong SecretKey fails with AuthFailure.SignatureFailure", async () => {
      const bad = mode.make(`${SECRET_KEY}-wrong`);
      await assertTcError(
        bad.call("RegisterUser", { SdkAppId: SDK_APP_ID, Name: "x", OriginId: uniq("badkey"), Avatar: AVATAR }),
        "AuthFailure.SignatureFailure",
      );
    });

    it("an unknown SdkAppId fails with InvalidParameter.SdkAppId", async () => {
      await assertTcError(
        api.call("RegisterUser", { SdkAppId: UNKNOWN_SDK_APP_ID, Name: "x", OriginId: uniq("noapp"), Avatar: AVATAR }),
        "InvalidParameter.SdkAppId",
      );
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The same server reached as "localhost:PORT", as many users will write it. The Node SDKs then
// sign TC3 with service "localhost:PORT" and host "localhost"; v1 signs "localhost:PORT".
// ---------------------------------------------------------------------------------------------
if (LOCALHOST_ENDPOINT) {
  describe(`endpoint spelled ${LOCALHOST_ENDPOINT}`, () => {
    const variants = [
      ["common 4.x default (TC3)", makeCommonSdk(undefined, SECRET_KEY, LOCALHOST_ENDPOINT)],
      ["intl-en 3.x default (v1)", makeIntlSdk(undefined, SECRET_KEY, LOCALHOST_ENDPOINT)],
      ["intl-en 3.x TC3", makeIntlSdk("TC3-HMAC-SHA256", SECRET_KEY, LOCALHOST_ENDPOINT)],
    ];
    for (const [name, api] of variants) {
      it(`${name}: RegisterUser and DescribeUser`, async () => {
        const originId = uniq("localhost");
        const reg = await api.call("RegisterUser", { SdkAppId: SDK_APP_ID, Name: "local", OriginId: originId, Avatar: AVATAR });
        assert.match(reg.UserId, USER_ID_RE);
        assertToken(reg.Token);
        const d = await api.call("DescribeUser", { UserId: reg.UserId });
        assert.equal(d.UserId, reg.UserId);
        assert.equal(d.OriginId, originId);
        assert.equal(d.Name, "local");
        assert.equal(d.SdkAppId, SDK_APP_ID);
      });
    }
  });
}
