-- steps:
--   - merge: { key: [id], order_by: updated_at }
-- The latest input row per key replaces the target's; a delete removes the key.
CREATE TABLE target_current AS SELECT * FROM (VALUES
  (1, 'old', 1), (2, 'keep', 1), (3, 'gone', 1)
) t(id, name, updated_at);
CREATE TABLE input AS SELECT * FROM (VALUES
  (1, 'new', 2, 'update'), (1, 'newer', 3, 'update'), (3, 'gone', 2, 'delete'), (4, 'added', 1, 'insert')
) t(id, name, updated_at, _change_type);
