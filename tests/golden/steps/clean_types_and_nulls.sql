-- steps:
--   - clean: { names: snake_case, on_type_error: "null",
--              types: { amount: 'decimal(10,2)', order_date: date, qty: integer } }
-- A value that does not fit its type becomes NULL; trimming and null tokens come first.
CREATE TABLE input AS SELECT * FROM (VALUES
  ('1', ' 12.50 ', '2024-01-31', '3'),
  ('2', 'N/A', '2024-02-30', 'x'),
  ('3', '', NULL, ' 7 '),
  ('4', '1e3', '2024-03-01', '2.5')
) t("Order ID", "Amount", "OrderDate", "Qty");
