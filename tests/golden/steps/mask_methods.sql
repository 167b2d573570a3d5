-- steps:
--   - mask: { account: hash, name: redact, phone: partial, card: { method: partial, show_last: 2 } }
-- Hashes are keyed (the test's key), NULL stays NULL, masked columns become VARCHAR.
CREATE TABLE input AS SELECT * FROM (VALUES
  (1, 'DE001', 'Ada', '+49 30 1234567', 4111111111111111),
  (2, NULL, NULL, '12', NULL)
) t(id, account, name, phone, card);
