-- The day's analysis over PostgreSQL's staging tables. sluice runs this file in one transaction:
-- readers of analytics.* see yesterday's tables or today's, never a half-built one.
CREATE SCHEMA IF NOT EXISTS analytics;

DROP TABLE IF EXISTS analytics.daily_revenue;
CREATE TABLE analytics.daily_revenue AS
SELECT o.order_date                           AS day,
       count(*)                               AS orders,
       sum(o.amount)                          AS revenue,
       count(s.order_id)                      AS shipped,
       count(*) - count(s.shipped_on)         AS not_shipped_yet,
       round(avg(r.stars), 2)                 AS avg_stars
FROM staging.orders AS o
LEFT JOIN staging.shipments AS s ON s.order_id = o.order_id
LEFT JOIN (SELECT order_id, avg(stars) AS stars FROM staging.reviews GROUP BY order_id) AS r
       ON r.order_id = o.order_id
GROUP BY o.order_date;

DROP TABLE IF EXISTS analytics.shipping_weight;
CREATE TABLE analytics.shipping_weight AS
SELECT s.shipped_on AS day, count(*) AS shipments, sum(s.weight_kg) AS weight_kg
FROM staging.shipments AS s
WHERE s.shipped_on IS NOT NULL
GROUP BY s.shipped_on;
