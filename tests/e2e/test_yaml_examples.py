"""Every YAML example we ship must be valid YAML: fenced ```yaml blocks and YAML-looking inline code of
README.md, docs/ and examples/, the example projects' files, and the YAML snippets inside the CLI's
hint strings (src/**/*.cpp). Whole files (a block starting with `project:`/`name:` or headed
`# sluice.yaml` / `# pipelines/NAME.yaml`, and the example projects) must also pass `sluice validate`.
Parsed with Debian's python3-yaml, an independent YAML 1.1 parser."""
import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import yaml

from sluice_e2e import SLUICE, Project

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def rel(path):
    return os.path.relpath(path, ROOT)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def markdown_files():
    files = [os.path.join(ROOT, "README.md")]
    files += glob.glob(os.path.join(ROOT, "docs", "**", "*.md"), recursive=True)
    files += glob.glob(os.path.join(ROOT, "examples", "**", "*.md"), recursive=True)
    return sorted(files)


FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)
INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
# `key: value` or `- key: value` where the value has a flow collection or a reference: the shapes
# in which a reference or a brace can break YAML.
YAML_INLINE = re.compile(r"^(- )?[A-Za-z_][\w.-]*: .*(\{|\[|\$\{)")


def fenced_blocks(path):
    """(language, text, line) of each fenced block."""
    text = read(path)
    for m in FENCE.finditer(text):
        yield m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1


def inline_snippets(path):
    text = read(path)
    no_fences = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    for m in INLINE.finditer(no_fences):
        snippet = m.group(1).strip()
        if YAML_INLINE.match(snippet) and "…" not in snippet and "..." not in snippet:
            yield snippet, no_fences.count("\n", 0, m.start()) + 1


def cpp_string_literals(source):
    """Adjacent C++ string literals joined (as the compiler does), with their line; raw strings skipped."""
    literal = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
    out, current, start_line, last_end = [], None, 0, 0
    for m in literal.finditer(source):
        before = source[m.start() - 1] if m.start() > 0 else ""
        if before == "R" or before == "'":
            continue
        between = source[last_end:m.start()]
        line = source.count("\n", 0, m.start()) + 1
        body = bytes(m.group(1), "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")
        if current is not None and between.strip() == "":
            current += body
        else:
            if current is not None:
                out.append((current, start_line))
            current, start_line = body, line
        last_end = m.end()
    if current is not None:
        out.append((current, start_line))
    return out


def unformat(text):
    """A fmt template as the user sees it: {{ -> {, }} -> }, {} / {0} / {:>8} -> X."""
    if not re.search(r"\{\}|\{\{|\}\}|\{\d*:[^}]*\}|\{\d+\}", text):
        return text
    text = re.sub(r"(?<!\{)\{(\d*(:[^{}]*)?)\}(?!\})", "X", text)
    return text.replace("{{", "{").replace("}}", "}")


def balanced_flow_maps(text):
    """Each `{ ... }` of `text` (not a ${...} reference) holding `key: value`, with a `key: ` or `- key: ` in front."""
    i = 0
    while i < len(text):
        if text[i] == "{" and (i == 0 or text[i - 1] != "$"):
            depth, j = 0, i
            while j < len(text):
                if text[j] == "{":
                    depth += 1
                elif text[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if depth == 0 and j < len(text):
                body = text[i:j + 1]
                if re.search(r"\w: ", body):
                    prefix = re.search(r"(- )?[A-Za-z_][\w.-]*: $", text[:i])
                    yield (prefix.group(0) if prefix else "") + body
                i = j + 1
                continue
        i += 1


def hint_snippets():
    """(snippet, where) of YAML inside the user-visible strings of src/."""
    for path in sorted(glob.glob(os.path.join(ROOT, "src", "**", "*.cpp"), recursive=True)):
        source = read(path)
        for text, line in cpp_string_literals(source):
            shown = unformat(text)
            if ": " not in shown or "{" not in shown:
                continue
            for snippet in balanced_flow_maps(shown):
                if "X" in re.findall(r"\w+", snippet):  # a value filled in at run time: nothing to check
                    continue
                yield snippet, f"{rel(path)}:{line}"


def parse_error(text):
    try:
        yaml.safe_load(text)
        return None
    except yaml.YAMLError as e:
        return str(e).replace("\n", " ")


PROJECT_KEYS = {"project", "lake", "catalog", "s3", "connections", "notifications", "server", "query", "engine",
                "defaults", "masking", "environments"}


def whole_file_kind(text):
    """'project', 'pipeline' or None for a fenced block."""
    first = next((l for l in text.splitlines() if l.strip()), "")
    # A header naming the file makes the block that whole file; "# pipelines/x.yaml (the notify: part)" does not.
    if re.match(r"#\s*sluice\.ya?ml\s*$", first):
        return "project"
    if re.match(r"#\s*pipelines/[\w.-]+\.ya?ml\s*$", first):
        return "pipeline"
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if isinstance(doc, dict) and "name" in doc and ("source" in doc or "jobs" in doc):
        return "pipeline"
    if isinstance(doc, dict) and "project" in doc and set(doc) <= PROJECT_KEYS:
        return "project"
    return None


def env_for(text):
    """Dummy values for every ${env:NAME} in `text`."""
    return {name: "dummy-value" for name in re.findall(r"\$\{env:([A-Za-z_]\w*)", text)}


CONTRACT_PROJECT = """\
project: acme
connections:
  registry: { type: postgres, url: "postgresql://etl@127.0.0.1:5432/registry" }
  bank: { type: postgres, url: "postgresql://etl@127.0.0.1:5432/bank" }
  shop: { type: postgres, url: "postgresql://etl@127.0.0.1:5432/shop" }
  shopdb: { type: postgres, url: "postgresql://etl@127.0.0.1:5432/shop" }
notifications:
  ops-mail: { type: email, smtp: { host: 127.0.0.1, port: 8025, tls: none }, from: a@b.test, to: [c@d.test] }
  ops-hook: { type: webhook, url: "http://127.0.0.1:9000/hook" }
  data-team: { type: email, smtp: { host: 127.0.0.1 }, from: a@b.test, to: [c@d.test] }
environments:
  prod: { lake: ./lake-prod }
"""


class YamlExamplesTest(unittest.TestCase):
    def test_every_fenced_yaml_block_parses(self):
        problems, count = [], 0
        for path in markdown_files():
            for language, text, line in fenced_blocks(path):
                if language not in ("yaml", "yml"):
                    continue
                count += 1
                error = parse_error(text)
                if error:
                    problems.append(f"{rel(path)}:{line}: {error}")
        self.assertGreater(count, 20)
        self.assertEqual(problems, [])

    def test_yaml_looking_inline_code_parses(self):
        problems, count = [], 0
        for path in markdown_files():
            for snippet, line in inline_snippets(path):
                count += 1
                error = parse_error(snippet)
                if error:
                    problems.append(f"{rel(path)}:{line}: `{snippet}`: {error}")
        self.assertGreater(count, 5)
        self.assertEqual(problems, [])

    def test_yaml_in_cli_hint_strings_parses(self):
        snippets = list(hint_snippets())
        self.assertGreater(len(snippets), 5)
        # The extractor finds the hints this test was written for (so it cannot silently find nothing).
        found = " ".join(s for s, _ in snippets)
        self.assertIn('masking: { key: "${env:SLUICE_MASK_KEY}" }', found)
        self.assertIn('{ token: "${env:NAME}" }', found)
        problems = [f"{where}: `{snippet}`: {parse_error(snippet)}" for snippet, where in snippets
                    if parse_error(snippet)]
        self.assertEqual(problems, [])

    def test_example_project_files_parse_and_validate(self):
        for folder in sorted(glob.glob(os.path.join(ROOT, "examples", "*", ""))):
            files = glob.glob(os.path.join(folder, "**", "*.y*ml"), recursive=True)
            self.assertTrue(files, folder)
            env = {}
            for path in files:
                text = read(path)
                self.assertIsNone(parse_error(text), rel(path))
                env.update(env_for(text))
            work = tempfile.mkdtemp(prefix="sluice-example-")
            try:
                project = os.path.join(work, "p")
                shutil.copytree(folder, project)
                p = Project.__new__(Project)
                p.root = project
                r = p.sluice("validate", env=env)
                self.assertEqual(r.rc, 0, f"{rel(folder)}: {r}")
            finally:
                shutil.rmtree(work, ignore_errors=True)

    def test_whole_files_in_docs_validate(self):
        problems, count = [], 0
        for path in markdown_files():
            for language, text, line in fenced_blocks(path):
                if language not in ("yaml", "yml") or parse_error(text):
                    continue
                kind = whole_file_kind(text)
                if kind is None:
                    continue
                count += 1
                p = Project(CONTRACT_PROJECT)
                try:
                    if kind == "project":
                        p.write("sluice.yaml", text)
                    else:
                        p.write("pipelines/example.yaml", text)
                    for ref in re.findall(r"\$\{file:([^}]+)\}", text):
                        p.write(ref, "dummy-value\n")
                    r = p.sluice("validate", env=env_for(text))
                    if r.rc != 0:
                        self.maxDiff = None
                        problems.append(f"{rel(path)}:{line} ({kind}): {r.err.strip()}")
                finally:
                    p.cleanup()
        self.assertGreater(count, 5)
        self.assertEqual(problems, [])

    def test_sluice_init_writes_a_valid_project(self):
        work = tempfile.mkdtemp(prefix="sluice-init-")
        try:
            p = Project.__new__(Project)
            p.root = os.path.join(work, "demo")
            init = subprocess.run([SLUICE, "init", p.root], capture_output=True, text=True, cwd=work, timeout=120)
            self.assertEqual(init.returncode, 0, init.stderr)
            text = read(os.path.join(p.root, "sluice.yaml"))
            self.assertNotIn("arrives with S3 support", text)
            self.assertIn("s3://", text)
            self.assertIsNone(parse_error(text))
            r = p.sluice("validate")
            self.assertEqual(r.rc, 0, r)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
