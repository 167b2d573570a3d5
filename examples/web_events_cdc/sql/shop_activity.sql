-- A little later in the shop: new orders, payments, a cancellation, a correction.
-- psql -h 127.0.0.1 -U sluice shop -f sql/shop_activity.sql
BEGIN;
INSERT INTO public.orders (id, customer, status, amount, placed_at, note)
SELECT g, 'customer-' || (g % 97), 'new', round((10 + g % 50)::numeric, 2),
       timestamptz '2026-12-04 09:00:00+00' + ((g - 500) * interval '10 minutes'), NULL
FROM generate_series(501, 560) AS g;
COMMIT;
UPDATE public.orders SET status = 'paid' WHERE id BETWEEN 501 AND 530;
UPDATE public.orders SET status = 'shipped', note = 'left the warehouse' WHERE id % 50 = 0 AND id <= 500;
DELETE FROM public.orders WHERE id IN (13, 531);
BEGIN;
UPDATE public.orders SET amount = amount + 1 WHERE id = 42;
ROLLBACK;                             -- never reaches the lake
