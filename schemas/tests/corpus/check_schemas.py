#!/usr/bin/env python3
"""Checks schemas/json/*.schema.json, the corpus cases.json and the examples in schemas/README.md.

Needs Python 3.9+ and `pip install "jsonschema[format]"` (the date-time format is only checked
when rfc3339-validator is installed; this script refuses to run without it). Standard library
otherwise. Run from anywhere:

    python3 schemas/tests/corpus/check_schemas.py

What it checks:
1. Each schema file is a valid draft 2020-12 schema, has $id/title/description, uses no $ref to
   another file, and the per-type files repeat the envelope rules of envelope.schema.json exactly.
2. Every case with schema_expressible=true gets its expected verdict from the JSON Schema files
   alone (valid for "ok", invalid otherwise), and the `field` it names is one the validator
   reports.
3. Every case's hand-written `expect` agrees with a small reference model of EVENTS.md's rules
   below (a cross-check against slips of the hand, not the pipeline's implementation).
4. Every ```json example in schemas/README.md is a valid message (schema and reference model).

Note on `pattern`: JSON Schema patterns are ECMA-262 regular expressions, in which `$` matches only
at the very end of the string; Python's `$` also matches before a final newline. The validator
below gives `$` its ECMA meaning so that, e.g., "north-shore\\n" is rejected as the Rust
`jsonschema` crate rejects it.
"""
import base64
import datetime
import json
import math
import pathlib
import re
import sys

try:
    import jsonschema
    from jsonschema import Draft202012Validator, ValidationError
except ImportError:  # pragma: no cover
    sys.exit('needs the jsonschema package: pip install "jsonschema[format]"')

HERE = pathlib.Path(__file__).resolve().parent
SCHEMA_DIR = HERE.parent.parent / "json"
README = HERE.parent.parent / "README.md"
CASES = HERE / "cases.json"

TYPES = ["intake", "assessment", "service", "placement", "wage", "separation", "exit", "retraction"]
ORDER = ["too_large", "malformed_json", "unknown_event_type", "unsupported_schema_version",
         "schema_violation", "out_of_range", "occurred_after_recorded", "consortium_mismatch",
         "topic_mismatch"]
SCHEMA_REASONS = {"unknown_event_type", "unsupported_schema_version", "schema_violation", "out_of_range"}
RANGE_KEYWORDS = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
MIB = 1024 * 1024

FAILURES = []


def fail(msg):
    FAILURES.append(msg)


# ---------------------------------------------------------------------------------------------
# Validator with ECMA-262 `$` and format assertion

def to_python_regex(pattern):
    for esc in ("\\d", "\\w", "\\s", "\\b", "\\D", "\\W", "\\S", "\\B"):
        if esc in pattern:
            raise SystemExit(f"pattern {pattern!r} uses {esc}, whose meaning differs between regex engines")
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + "\\Z"
    return pattern


def ecma_pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not re.search(to_python_regex(pattern), instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


Validator = jsonschema.validators.extend(Draft202012Validator, {"pattern": ecma_pattern})
FORMATS = Draft202012Validator.FORMAT_CHECKER
for fmt in ("date", "date-time"):
    if fmt not in FORMATS.checkers:
        sys.exit(f'format "{fmt}" is not checked: pip install "jsonschema[format]"')
assert not FORMATS.conforms("2026-02-30", "date")
assert FORMATS.conforms("2024-02-29", "date")
assert not FORMATS.conforms("2026-02-30T10:00:00Z", "date-time")
assert not FORMATS.conforms("2026-03-01T10:00:00", "date-time")
assert FORMATS.conforms("2026-03-01T10:00:00+05:00", "date-time")


def load_schemas():
    schemas = {}
    for name in ["envelope"] + TYPES:
        path = SCHEMA_DIR / f"{name}.schema.json"
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
            fail(f"{path.name}: $schema is not draft 2020-12")
        if schema.get("$id") != f"https://outcomes.example/schemas/v1/{name}.schema.json":
            fail(f"{path.name}: unexpected $id {schema.get('$id')!r}")
        for key in ("title", "description"):
            if not schema.get(key):
                fail(f"{path.name}: no {key}")
        if schema.get("additionalProperties") is not False:
            fail(f"{path.name}: top level must have additionalProperties: false")
        for ref in find_refs(schema):
            if not ref.startswith("#"):
                fail(f"{path.name}: $ref {ref!r} leaves the file (files must be self-contained)")
        desc = schema["description"]
        for needle in ["recorded_at", "supersedes" if name != "retraction" else "repeated key", "repeated key",
                       "1 MiB", "consortium_mismatch", "topic_mismatch", "float64"] + \
                      (["period_start <= period_end", "31 calendar days", "period_end"]
                       if name in ("wage", "envelope") else []):
            if needle not in desc:
                fail(f"{path.name}: description does not mention {needle!r}")
        schemas[name] = schema
    env = schemas["envelope"]
    if env["properties"]["event_type"].get("enum") != TYPES:
        fail("envelope.schema.json: event_type enum differs from the eight types")
    for t in TYPES:
        s = schemas[t]
        if s["properties"]["event_type"].get("const") != t:
            fail(f"{t}.schema.json: event_type is not const {t!r}")
        if s["required"] != env["required"] or s["$defs"] != env["$defs"]:
            fail(f"{t}.schema.json: required or $defs differ from envelope.schema.json")
        for k, v in env["properties"].items():
            if k in ("event_type", "payload") or (k == "supersedes" and t == "retraction"):
                continue
            if s["properties"].get(k) != v:
                fail(f"{t}.schema.json: envelope property {k} differs from envelope.schema.json")
        if set(s["properties"]) != set(env["properties"]):
            fail(f"{t}.schema.json: envelope properties differ from envelope.schema.json")
        payload = s["properties"]["payload"]
        if payload.get("additionalProperties") is not False or payload.get("type") != "object":
            fail(f"{t}.schema.json: payload must be an object with additionalProperties: false")
    return {name: Validator(schema, format_checker=FORMATS) for name, schema in schemas.items()}


def find_refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from find_refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from find_refs(v)


def leaf_errors(errors):
    for e in errors:
        if e.context:
            yield from leaf_errors(e.context)
        yield e


def error_fields(e):
    path = ".".join(str(p) for p in e.absolute_path)
    prefix = path + "." if path else ""
    if e.validator == "required" and isinstance(e.instance, dict):
        return {prefix + k for k in e.validator_value if k not in e.instance}
    if e.validator == "additionalProperties" and isinstance(e.instance, dict):
        known = e.schema.get("properties", {})
        return {prefix + k for k in e.instance if k not in known}
    return {path}


def schema_for(validators, obj):
    et = obj.get("event_type") if isinstance(obj, dict) else None
    return validators[et] if isinstance(et, str) and et in TYPES else validators["envelope"]


# ---------------------------------------------------------------------------------------------
# Reference model of EVENTS.md ("Validation at ingest" and its precise rules)

class Malformed(Exception):
    pass


def _reject_constant(name):
    raise Malformed(f"{name} is not JSON")


def parse(raw_bytes):
    """-> (object, repeated_keys, overflow) or raises Malformed."""
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed(f"not UTF-8: {exc}")
    if text.startswith("\ufeff"):
        raise Malformed("begins with a BOM")
    repeated = []

    def pairs(items):
        seen = {}
        for k, v in items:
            if k in seen:
                repeated.append(k)
            seen[k] = v  # the last value counts
        return seen

    try:
        obj = json.loads(text, object_pairs_hook=pairs, parse_constant=_reject_constant,
                         parse_int=float, parse_float=float)
    except (ValueError, RecursionError) as exc:
        raise Malformed(str(exc))
    if not isinstance(obj, dict):
        raise Malformed("not a JSON object")
    overflow = []

    def walk(v):
        if isinstance(v, str):
            if any(0xD800 <= ord(ch) <= 0xDFFF for ch in v):
                raise Malformed("unpaired surrogate")
        elif isinstance(v, float):
            if math.isinf(v):
                overflow.append(v)
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(k)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(obj)
    return obj, repeated, overflow


DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


def as_date(v):
    if isinstance(v, str) and DATE_RE.match(v) and FORMATS.conforms(v, "date"):
        return datetime.date.fromisoformat(v)
    return None


def reference(validators, raw_bytes, consortium, topic):
    if len(raw_bytes) > MIB:
        return "too_large"
    try:
        obj, repeated, overflow = parse(raw_bytes)
    except Malformed:
        return "malformed_json"
    reasons = set()
    et = obj.get("event_type")
    if isinstance(et, str):
        if et not in TYPES:
            reasons.add("unknown_event_type")
    else:
        reasons.add("schema_violation")
    sv = obj.get("schema_version")
    if isinstance(sv, (int, float)) and not isinstance(sv, bool):
        if sv != 1:
            reasons.add("unsupported_schema_version")
    else:
        reasons.add("schema_violation")
    if repeated:
        reasons.add("schema_violation")
    if overflow:
        reasons.add("out_of_range")
    for e in leaf_errors(schema_for(validators, obj).iter_errors(obj)):
        if list(e.absolute_path) in (["event_type"], ["schema_version"]):
            continue  # judged above
        if e.validator in ("anyOf", "oneOf", "allOf"):
            continue  # its leaves are judged
        reasons.add("out_of_range" if e.validator in RANGE_KEYWORDS else "schema_violation")
    if isinstance(obj.get("supersedes"), str) and obj.get("supersedes") == obj.get("event_id"):
        reasons.add("schema_violation")
    payload = obj.get("payload")
    occurred = as_date(obj.get("occurred_on"))
    if et == "wage" and isinstance(payload, dict):
        start, end = as_date(payload.get("period_start")), as_date(payload.get("period_end"))
        if start and end:
            if start > end or (end - start).days > 30:
                reasons.add("out_of_range")
            if occurred != end:
                reasons.add("out_of_range")
    recorded = obj.get("recorded_at")
    ts_pattern = validators["envelope"].schema["$defs"]["timestamp"]["pattern"]
    if (occurred and isinstance(recorded, str) and re.search(to_python_regex(ts_pattern), recorded)
            and FORMATS.conforms(recorded, "date-time")):
        if occurred > datetime.date.fromisoformat(recorded[:10]):
            reasons.add("occurred_after_recorded")
    cid = obj.get("consortium_id")
    if isinstance(cid, str) and cid != consortium:
        reasons.add("consortium_mismatch")
    if topic is not None and isinstance(et, str) and et != topic.rsplit(".", 1)[-1]:
        reasons.add("topic_mismatch")
    return min(reasons, key=ORDER.index) if reasons else "ok"


# ---------------------------------------------------------------------------------------------

def check_cases(validators):
    cases = json.loads(CASES.read_text(encoding="utf-8"))
    names = set()
    counts = {}
    for c in cases:
        name = c["name"]
        counts[c["expect"]] = counts.get(c["expect"], 0) + 1
        if name in names:
            fail(f"duplicate case name {name!r}")
        names.add(name)
        if c["expect"] != "ok" and c["expect"] not in ORDER:
            fail(f"{name}: unknown expect {c['expect']!r}")
        if (c["field"] is None) != (c["expect"] in ("ok", "too_large", "malformed_json")):
            fail(f"{name}: field must be null exactly for ok / too_large / malformed_json")
        tp = c["topic"]
        if tp is not None:
            parts = tp.split(".")
            if not re.fullmatch(r"outcomes\.[a-z0-9-]+\.[a-z]+", tp) or parts[1] != c["consortium"]:
                fail(f"{name}: topic {tp!r} is not outcomes.<consortium>.<type> for {c['consortium']!r}")
        raw = base64.b64decode(c["raw_base64"]) if c["raw_base64"] is not None else c["raw"].encode("utf-8")
        if c["raw_base64"] is not None:
            try:
                raw.decode("utf-8")
                fail(f"{name}: raw_base64 is valid UTF-8; use raw")
            except UnicodeDecodeError:
                pass

        got = reference(validators, raw, c["consortium"], tp)
        if got != c["expect"]:
            fail(f"{name}: expect {c['expect']!r} but the reference model says {got!r}")

        if c["schema_expressible"]:
            if c["expect"] not in SCHEMA_REASONS | {"ok"}:
                fail(f"{name}: reason {c['expect']} cannot be schema_expressible")
                continue
            try:
                obj, repeated, overflow = parse(raw)
            except Malformed as exc:
                fail(f"{name}: schema_expressible but not parseable: {exc}")
                continue
            if repeated or overflow:
                fail(f"{name}: schema_expressible but has repeated keys or overflowing numbers")
            obj = json.loads(raw.decode("utf-8"))  # ordinary parse, as a producer's validator would
            errors = list(leaf_errors(schema_for(validators, obj).iter_errors(obj)))
            if c["expect"] == "ok":
                if errors:
                    fail(f"{name}: expected valid, schema says: {errors[0].message[:200]}")
            else:
                if not errors:
                    fail(f"{name}: expected {c['expect']}, but the schema accepts it")
                fields = set().union(*(error_fields(e) for e in errors)) if errors else set()
                if c["field"] not in fields:
                    fail(f"{name}: field {c['field']!r} not among the schema's errors {sorted(fields)}")
        elif c["expect"] in ("ok", "occurred_after_recorded", "consortium_mismatch", "topic_mismatch"):
            # Nothing before these reasons may break, so the schema must accept the message
            # (unless its numbers only fit after float64 rounding, which this parse also does).
            try:
                obj, _, _ = parse(raw)
            except Malformed as exc:
                fail(f"{name}: {c['expect']} but not parseable: {exc}")
                continue
            errors = list(schema_for(validators, obj).iter_errors(obj))
            if errors:
                fail(f"{name}: {c['expect']} but the schema rejects it: {errors[0].message[:200]}")
    return cases, counts


def check_readme(validators):
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```json\n(.*?)```", text, flags=re.S)
    seen = set()
    for block in blocks:
        obj = json.loads(block)
        if not (isinstance(obj, dict) and "event_type" in obj):
            fail(f"README json block is not an event: {block[:80]!r}")
            continue
        seen.add(obj["event_type"])
        errors = list(schema_for(validators, obj).iter_errors(obj))
        if errors:
            fail(f"README example {obj.get('event_type')}: {errors[0].message[:200]}")
        got = reference(validators, block.strip().encode("utf-8"), obj.get("consortium_id"),
                        f"outcomes.{obj.get('consortium_id')}.{obj.get('event_type')}")
        if got != "ok":
            fail(f"README example {obj.get('event_type')}: reference model says {got}")
    missing = set(TYPES) - seen
    if missing:
        fail(f"README has no example for {sorted(missing)}")
    return len(blocks)


def main():
    validators = load_schemas()
    cases, counts = check_cases(validators)
    n_examples = check_readme(validators) if README.exists() else 0
    if not README.exists():
        fail("schemas/README.md is missing")
    for f in FAILURES:
        print("FAIL", f)
    passed = len(cases) + n_examples
    print(f"{len(cases)} cases ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}); "
          f"{n_examples} README examples")
    print(f"check_schemas: {passed - min(len(FAILURES), passed)} passed, {len(FAILURES)} failed")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
