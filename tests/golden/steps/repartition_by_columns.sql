-- steps:
--   - repartition: { by: [country, event_date], file_size: 64MB }
-- The rows pass unchanged; the write plan gains the partition columns and the file size.
CREATE TABLE input AS SELECT * FROM (VALUES ('DE', DATE '2024-10-01', 1), ('FR', DATE '2024-10-02', 2)) t(country, event_date, n);
