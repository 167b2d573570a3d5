// Drives sluice's /firehose endpoint with the real AWS SDK v3 Firehose client.
// Usage: node firehose_client.mjs ENDPOINT KEY_ID SECRET STREAM  (records as JSON lines on stdin)
// Prints one JSON line: {"batch": <PutRecordBatch answer>, "single": <PutRecord answer>} or {"error": name, "message"}.
import { createRequire } from "node:module";
import path from "node:path";
import fs from "node:fs";

const require = createRequire(path.join(process.env.SLUICE_NPM_TOOLS, "node_modules", "x.js"));
const { FirehoseClient, PutRecordBatchCommand, PutRecordCommand } = require("@aws-sdk/client-firehose");

const [endpoint, keyId, secret, stream] = process.argv.slice(2);
const lines = fs.readFileSync(0, "utf8").split("\n").filter((l) => l.length > 0);
const client = new FirehoseClient({
  endpoint,
  region: "eu-west-1",
  credentials: { accessKeyId: keyId, secretAccessKey: secret },
  maxAttempts: 2,
});
const encoder = new TextEncoder();
try {
  const batch = await client.send(new PutRecordBatchCommand({
    DeliveryStreamName: stream,
    Records: lines.map((l) => ({ Data: encoder.encode(l + "\n") })),
  }));
  const single = await client.send(new PutRecordCommand({
    DeliveryStreamName: stream,
    Record: { Data: encoder.encode(JSON.stringify({ single: true, ts: 1764979200000 })) },
  }));
  console.log(JSON.stringify({
    batch: { FailedPutCount: batch.FailedPutCount, Encrypted: batch.Encrypted, RequestResponses: batch.RequestResponses },
    single: { RecordId: single.RecordId, Encrypted: single.Encrypted },
  }));
} catch (e) {
  console.log(JSON.stringify({ error: e.name, message: e.message, status: e.$metadata?.httpStatusCode }));
}
