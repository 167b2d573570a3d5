-- The peer's analytics (peers/pandas_staging_analytics.py, ANALYTICS), run by sluice's sql: job in one
-- transaction. The peer drops and recreates the schemas first; here the tables are replaced.
CREATE SCHEMA IF NOT EXISTS analytics;
DROP TABLE IF EXISTS analytics.daily_revenue, analytics.shipping_performance, analytics.review_scores;

CREATE TABLE analytics.daily_revenue AS
SELECT order_ts::date AS day, country, currency, count(*) AS orders,
       sum(amount) AS revenue, count(*) FILTER (WHERE amount IS NULL) AS orders_bad_amount
FROM staging.orders WHERE status <> 'canceled'
GROUP BY 1, 2, 3;

CREATE TABLE analytics.shipping_performance AS
SELECT s.carrier, date_trunc('month', o.order_ts)::date AS month, count(*) AS shipments,
       avg(extract(epoch FROM s.delivered_at - s.shipped_at) / 86400.0) AS avg_days_in_transit,
       avg((s.delivered_at::date > s.estimated_delivery)::int) AS late_ratio,
       count(*) FILTER (WHERE s.shipped_at IS NULL) AS missing_shipped_at
FROM staging.shipments s JOIN staging.orders o USING (order_id)
GROUP BY 1, 2;

CREATE TABLE analytics.review_scores AS
SELECT o.country, date_trunc('month', r.created_at)::date AS month, count(*) AS reviews,
       avg(r.score) AS avg_score, count(*) FILTER (WHERE r.score IS NULL) AS invalid_scores,
       corr(r.score, extract(epoch FROM s.delivered_at - o.order_ts)) AS score_vs_delivery_corr
FROM staging.reviews r
JOIN staging.orders o USING (order_id)
LEFT JOIN staging.shipments s USING (order_id)
GROUP BY 1, 2;
