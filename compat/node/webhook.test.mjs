// Verifies deliveries signed by usercenter with the standardwebhooks npm
// package, an independent implementation of the Standard Webhooks
// signature. compat/webhook_test.go runs it with one signed delivery in
// USERCENTER_WEBHOOK_* and a tampered copy.
import { test } from "node:test";
import assert from "node:assert/strict";

// docs:verify-node:start
import { Webhook } from "standardwebhooks";

// verify returns the delivered event, or throws if the signature or the
// timestamp (five minutes either way) is wrong. body is the raw body as a
// string; headers has webhook-id, webhook-timestamp, webhook-signature.
function verify(secret, headers, body) {
  return new Webhook(secret).verify(body, headers);
}
// docs:verify-node:end

const env = process.env;
const headers = {
  "webhook-id": env.USERCENTER_WEBHOOK_ID,
  "webhook-timestamp": env.USERCENTER_WEBHOOK_TIMESTAMP,
  "webhook-signature": env.USERCENTER_WEBHOOK_SIGNATURE,
};

test("a usercenter delivery verifies", () => {
  const event = verify(env.USERCENTER_WEBHOOK_SECRET, headers, env.USERCENTER_WEBHOOK_BODY);
  assert.equal(event.type, env.USERCENTER_WEBHOOK_TYPE);
  assert.equal(String(event.id), env.USERCENTER_WEBHOOK_EVENT_ID);
});

test("a tampered body does not", () => {
  assert.throws(() => verify(env.USERCENTER_WEBHOOK_SECRET, headers, env.USERCENTER_WEBHOOK_BODY + " "));
});

test("another secret does not", () => {
  assert.throws(() => verify(env.USERCENTER_WEBHOOK_OTHER_SECRET, headers, env.USERCENTER_WEBHOOK_BODY));
});
