#!/usr/bin/env python3
"""Writes incoming/indicators.zip (batch <n>): a zipped CSV shaped like a World Bank indicator download
(Country Name, Country Code, Indicator Name, Year, Value), with the messiness the clean step
handles: padded text, empty values and an exact duplicate row."""
import csv
import io
import os
import random
import sys
import zipfile

COUNTRIES = [("Germany", "DE"), ("France", "FR"), ("Italy", "IT"), ("Spain", "ES"), ("Poland", "PL"),
             ("Japan", "JP"), ("Brazil", "BR"), ("Kenya", "KE")]
INDICATORS = ["GDP (current US$)", "Population, total", "CO2 emissions (kt)"]


def main():
    batch = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    years = range(2000 + 10 * (batch - 1), 2010 + 10 * (batch - 1))
    rng = random.Random(batch)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Country Name", "Country", "Indicator", "Year", "Value"])
    rows = []
    for name, code in COUNTRIES:
        for indicator in INDICATORS:
            for year in years:
                value = "" if rng.random() < 0.05 else f"{rng.uniform(1, 1e6):.2f}"
                rows.append([f" {name} ", code, indicator, year, value])
    rows.append(rows[0])  # an exact duplicate, dropped by dedupe
    writer.writerows(rows)
    os.makedirs("incoming", exist_ok=True)
    path = os.path.join("incoming", "indicators.zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"indicators_{batch}.csv", out.getvalue())
    print(f"wrote {path}: {len(rows)} rows")


if __name__ == "__main__":
    main()
