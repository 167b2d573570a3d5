-- The shop's database as the example starts from: 500 orders over three days.
-- psql -h 127.0.0.1 -U sluice shop -f sql/shop.sql
CREATE TABLE IF NOT EXISTS public.orders (
  id         integer PRIMARY KEY,
  customer   text NOT NULL,
  status     text NOT NULL,
  amount     numeric(12,2) NOT NULL,
  placed_at  timestamptz NOT NULL,
  note       text
);
INSERT INTO public.orders (id, customer, status, amount, placed_at, note)
SELECT g,
       'customer-' || (g % 97),
       CASE WHEN g % 5 = 0 THEN 'paid' ELSE 'new' END,
       round((5 + (g * 37) % 400 + (g % 100) / 100.0)::numeric, 2),
       timestamptz '2026-12-01 08:00:00+00' + (g * interval '8 minutes'),
       CASE WHEN g % 7 = 0 THEN 'gift wrap, please' END
FROM generate_series(1, 500) AS g
ON CONFLICT (id) DO NOTHING;
