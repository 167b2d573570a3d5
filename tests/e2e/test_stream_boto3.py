"""Firehose compatibility through boto3 (Debian's python3-boto3), the SDK the issue names: a real
`sluice serve` on a free loopback port, a boto3 `firehose` client whose endpoint is its /firehose;
PutRecord, PutRecordBatch with a bad record, a wrong secret, an unknown stream, then the records in
the lake. Time moves by the injected clock file."""
import json
import unittest

from test_streams import AWS_SECRET, StreamsTestBase

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError:  # scripts/install-deps.sh installs python3-boto3
    boto3 = None

TS = 1764979200000


@unittest.skipIf(boto3 is None, "python3-boto3 is not installed: run scripts/install-deps.sh")
class Boto3FirehoseTest(StreamsTestBase):
    def client(self, secret=AWS_SECRET, key_id="AKIAWEBEVENTS"):
        return boto3.client("firehose", endpoint_url=f"http://127.0.0.1:{self.port}/firehose", region_name="eu-west-1",
                            aws_access_key_id=key_id, aws_secret_access_key=secret,
                            config=Config(retries={"max_attempts": 1}, connect_timeout=30, read_timeout=120))

    def error_code(self, call):
        with self.assertRaises(ClientError) as raised:
            call()
        return raised.exception.response["Error"]["Code"], raised.exception.response["Error"].get("Message", "")

    def test_put_record_and_put_record_batch(self):
        server = self.serve()
        firehose = self.client()
        single = firehose.put_record(DeliveryStreamName="web_events",
                                     Record={"Data": json.dumps({"id": 1, "ts": TS, "via": "put_record"}).encode()})
        self.assertTrue(single["RecordId"])
        self.assertFalse(single["Encrypted"])

        batch = firehose.put_record_batch(DeliveryStreamName="web_events", Records=[
            {"Data": json.dumps({"id": 2, "ts": TS}).encode() + b"\n"},
            {"Data": b"not json"},
            {"Data": b'{"id": 3, "ts": 1764979200000, "k": 1, "k": 2}'},
            {"Data": json.dumps({"id": 4, "ts": TS, "person": {"name": "ann"}}).encode()},
        ])
        self.assertEqual(batch["FailedPutCount"], 2)
        responses = batch["RequestResponses"]
        self.assertEqual(len(responses), 4)
        self.assertIn("RecordId", responses[0])
        self.assertEqual(responses[1]["ErrorCode"], "InvalidArgumentException")
        self.assertIn("not a JSON object", responses[1]["ErrorMessage"])
        self.assertEqual(responses[2]["ErrorCode"], "InvalidArgumentException")
        self.assertIn("appears twice", responses[2]["ErrorMessage"])
        self.assertIn("RecordId", responses[3])

        code, message = self.error_code(lambda: self.client(secret="not-the-secret").put_record(
            DeliveryStreamName="web_events", Record={"Data": b'{"id": 99}'}))
        self.assertEqual(code, "InvalidSignatureException")
        self.assertNotIn(AWS_SECRET, message)
        code, _ = self.error_code(lambda: self.client(key_id="AKIAUNKNOWN").put_record(
            DeliveryStreamName="web_events", Record={"Data": b'{"id": 99}'}))
        self.assertEqual(code, "UnrecognizedClientException")
        code, _ = self.error_code(lambda: firehose.put_record_batch(
            DeliveryStreamName="nope", Records=[{"Data": b'{"id": 99}'}]))
        self.assertEqual(code, "ResourceNotFoundException")
        code, _ = self.error_code(lambda: firehose.put_record_batch(
            DeliveryStreamName="web_events", Records=[{"Data": b'{"id": 99}'}] * 501))
        self.assertEqual(code, "InvalidArgumentException")

        self.flush_by_age()
        self.wait_rows("raw.web_events", 3, server)
        rows = self.rows("SELECT id, via, person.name AS name FROM raw.web_events ORDER BY id")
        self.assertEqual(rows, [{"id": 1, "via": "put_record", "name": None}, {"id": 2, "via": None, "name": None},
                                {"id": 4, "via": None, "name": "ann"}])
        self.assertEqual(server.stop(), 0)
        self.assertNotIn(AWS_SECRET, server.output())


if __name__ == "__main__":
    unittest.main()
