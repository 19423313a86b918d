// A smista webhook receiver in Node: verifies each ticket.suggested
// delivery and prints it as one JSON line.
//
// - v1 (HMAC-SHA256) with the official Standard Webhooks package
//   (npm: standardwebhooks), given the endpoint's secret in WEBHOOK_SECRET;
// - v1a (Ed25519) with node:crypto, given the endpoint's public key in
//   WEBHOOK_PUBLIC_KEY (whpk_...): the package does not do v1a yet.
//
// It deduplicates on webhook-id and answers 2xx fast.
//
//   npm install && WEBHOOK_SECRET=whsec_... PORT=8000 node receiver.js
"use strict";
const http = require("node:http");
const crypto = require("node:crypto");
const { Webhook } = require("standardwebhooks");

const TOLERANCE_SECONDS = 5 * 60;
const secret = process.env.WEBHOOK_SECRET || "";
const publicKey = process.env.WEBHOOK_PUBLIC_KEY || "";
if (!secret && !publicKey) {
  console.error("set WEBHOOK_SECRET (v1) or WEBHOOK_PUBLIC_KEY (v1a)");
  process.exit(2);
}
const hmac = secret ? new Webhook(secret) : null;
// A raw 32-byte Ed25519 key as a KeyObject, through its JWK form.
const ed = publicKey
  ? crypto.createPublicKey({
      format: "jwk",
      key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKey.replace(/^whpk_/, ""), "base64").toString("base64url") },
    })
  : null;
const seen = new Set();

function verify(body, headers) {
  if (hmac) {
    try {
      hmac.verify(body, headers);
      return;
    } catch (err) {
      if (!ed) throw err;
    }
  }
  const id = headers["webhook-id"];
  const ts = headers["webhook-timestamp"];
  const sigs = headers["webhook-signature"] || "";
  if (!id || !/^\d+$/.test(ts || "")) throw new Error("missing or malformed webhook-id or webhook-timestamp");
  if (Math.abs(Date.now() / 1000 - Number(ts)) > TOLERANCE_SECONDS) throw new Error("webhook-timestamp outside the tolerance");
  const signed = Buffer.concat([Buffer.from(`${id}.${ts}.`), body]);
  for (const s of sigs.split(" ")) {
    if (!s.startsWith("v1a,")) continue;
    if (crypto.verify(null, signed, ed, Buffer.from(s.slice(4), "base64"))) return;
  }
  throw new Error("no valid signature");
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    // Verify the raw bytes, before any JSON parsing.
    const body = Buffer.concat(chunks);
    try {
      verify(body, req.headers);
    } catch (err) {
      console.error(`rejected ${req.headers["webhook-id"]}: ${err.message}`);
      res.writeHead(400).end("invalid signature");
      return;
    }
    const id = req.headers["webhook-id"];
    if (seen.has(id)) {
      res.writeHead(200).end(); // already handled: acknowledge, do nothing
      return;
    }
    seen.add(id);
    const t = JSON.parse(body.toString("utf8"));
    console.log(JSON.stringify({ webhook_id: id, event: t.event, email_id: t.email_id, subject: t.subject }));
    res.writeHead(204).end();
  });
});
server.listen(Number(process.env.PORT || 8000), "127.0.0.1", () => {
  console.log(`listening on 127.0.0.1:${server.address().port}`);
});
