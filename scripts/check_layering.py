#!/usr/bin/env python3
"""Fails when a file under src/ includes a module its layer may not use.

The allowed dependencies are read from the "Layers" table of ARCHITECTURE.md at the repository
root, so the document and the check cannot drift apart. Every module may include common/ and
itself. A table row "everything below" allows every module listed after it.

Usage: check_layering.py [REPO_ROOT]   (exit 0: clean, 1: violations, 2: the table is unreadable)
"""
import os
import re
import sys


def read_layers(architecture_path):
    """Returns [(module, allowed set or None for 'everything below')] in table order."""
    rows = []
    in_table = False
    with open(architecture_path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("## Layers"):
                in_table = True
                continue
            if in_table and line.startswith("## "):
                break
            match = re.match(r"\|\s*`src/(\w+)/`\s*\|[^|]*\|\s*([^|]*)\|", line)
            if not in_table or not match:
                continue
            module, uses = match.group(1), match.group(2).strip()
            if uses.startswith("everything below"):
                rows.append((module, None))
            else:
                allowed = set(re.findall(r"`?(\w+)`?", uses)) - {"nothing", "of", "ours"}
                rows.append((module, allowed))
    return rows


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    layers = read_layers(os.path.join(root, "ARCHITECTURE.md"))
    if not layers:
        print("check_layering: no '## Layers' table with `src/<module>/` rows in ARCHITECTURE.md")
        return 2
    modules = [m for m, _ in layers]
    allowed = {}
    for index, (module, uses) in enumerate(layers):
        allowed[module] = set(modules[index + 1:]) if uses is None else uses
    src = os.path.join(root, "src")
    violations = []
    for folder in sorted(os.listdir(src)):
        if not os.path.isdir(os.path.join(src, folder)):
            continue
        if folder not in allowed:
            violations.append(f"src/{folder}/: a module missing from ARCHITECTURE.md's Layers table; add a row")
            continue
        for dirpath, _, files in os.walk(os.path.join(src, folder)):
            for name in sorted(files):
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        match = re.match(r'\s*#\s*include\s+"(\w+)/', line)
                        if not match:
                            continue
                        used = match.group(1)
                        if used in (folder, "common") or used in allowed[folder]:
                            continue
                        if used not in allowed:
                            continue  # not one of our modules (a generated or third-party path)
                        rel = os.path.relpath(path, root)
                        violations.append(f"{rel}:{number}: src/{folder}/ may not include {used}/ "
                                          f"(it may use: {', '.join(sorted(allowed[folder])) or 'common only'})")
    for v in violations:
        print(v)
    if violations:
        print(f"check_layering: {len(violations)} include(s) break the layering of ARCHITECTURE.md")
        return 1
    print(f"check_layering: {len(modules)} modules, every include follows ARCHITECTURE.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
