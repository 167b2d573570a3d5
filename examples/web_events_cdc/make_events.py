#!/usr/bin/env python3
"""Writes web events as NDJSON to stdout: make_events.py DAY COUNT [FIRST_ID]

Each event is one JSON object: event_id, ts (epoch milliseconds within DAY, UTC), session_id,
customer, event_type, page and, for checkouts, order_id. The same arguments always give the same
events, so a rerun can be checked against the lake."""
import datetime
import json
import random
import sys

PAGES = ["/", "/search", "/product/espresso-machine", "/product/grinder", "/product/beans", "/cart", "/checkout"]
TYPES = ["page_view"] * 6 + ["add_to_cart"] * 2 + ["checkout"]


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: make_events.py DAY COUNT [FIRST_ID]   e.g. make_events.py 2026-12-04 1000")
    day = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc)
    count = int(sys.argv[2])
    first = int(sys.argv[3]) if len(sys.argv) == 4 else 1
    rng = random.Random(f"{sys.argv[1]}/{first}")
    start_ms = int(day.timestamp() * 1000)
    for n in range(first, first + count):
        event_type = rng.choice(TYPES)
        event = {
            "event_id": f"{sys.argv[1]}-{n:08d}",
            "ts": start_ms + rng.randrange(86_400_000),
            "session_id": f"s{rng.randrange(1, count // 5 + 2):06d}",
            "customer": f"customer-{rng.randrange(97)}",
            "event_type": event_type,
            "page": "/checkout" if event_type == "checkout" else rng.choice(PAGES),
        }
        if event_type == "checkout":
            event["order_id"] = rng.randrange(1, 561)
        sys.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
