"""Writes one day's drop into incoming/: orders, reviews and shipments CSVs with the usual mess
(quoted commas, empty shipment dates, a bad number, a short line).

    python3 make_drop.py 2026-11-23            # all three files
    python3 make_drop.py 2026-11-23 orders     # only some of them
"""
import os
import random
import sys

day = sys.argv[1] if len(sys.argv) > 1 else "2026-11-23"
which = sys.argv[2:] or ["orders", "reviews", "shipments"]
stamp = day.replace("-", "")
here = os.path.dirname(os.path.abspath(__file__))
incoming = os.path.join(here, "incoming")
os.makedirs(incoming, exist_ok=True)
rng = random.Random(stamp)
orders = 200
first = int(stamp) % 100000 * 1000


def write(name, header, rows):
    # Written under a temporary name and renamed, as a careful uploader would; the settle time
    # covers uploaders that are not careful.
    path = os.path.join(incoming, f"{name}_{stamp}.csv")
    with open(path + ".part", "w") as f:
        f.write(header + "\n")
        f.writelines(row + "\n" for row in rows)
    os.replace(path + ".part", path)
    print(path)


if "orders" in which:
    rows = [f'{first + i},{day},"Customer {i}, Ltd",{rng.randint(5, 500)}.{rng.randint(0, 99):02d}' for i in range(orders)]
    rows[7] = f"{first + 7},{day},Customer 7,not-a-number"   # bad amount → quarantined with its line
    write("orders", "order_id,order_date,customer,amount", rows)
if "reviews" in which:
    rows = [f'{first + rng.randrange(orders)},{rng.randint(1, 5)},"good, fast"' for _ in range(80)]
    write("reviews", "order_id,stars,comment", rows)
if "shipments" in which:
    rows = []
    for i in range(0, orders, 2):
        shipped = "" if i % 10 == 0 else day            # not shipped yet: an empty date loads as NULL
        rows.append(f"{first + i},{shipped},{rng.randint(1, 40) / 2}")
    rows.append(f"{first + 1}")                            # a short line → quarantined
    write("shipments", "order_id,shipped_on,weight_kg", rows)
