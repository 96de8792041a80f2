#!/usr/bin/env python3
"""Writes cases.json, the conformance corpus for the event contract (shared/spec/EVENTS.md).

Every case's `expect` (and `field`) is written here by hand from EVENTS.md; nothing is
computed by a validator. Edit this file, rerun it (`python3 make_cases.py`), then run
`python3 check_schemas.py`. Standard library only.
"""
import base64
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
C = "north-shore"
MIB = 1024 * 1024

# ---------------------------------------------------------------------------------------------
# A tiny serializer that can also write what json.dumps cannot: repeated keys, raw number
# literals (1e400, -0, 400-digit integers) and hand-made escapes.


class Raw:
    """Text written into the message verbatim (a number literal, an escaped string, ...)."""

    def __init__(self, text):
        self.text = text


class Obj:
    """A JSON object given as a list of (key, value) pairs; keys may repeat. A key may be Raw."""

    def __init__(self, pairs):
        self.pairs = list(pairs)


DEL = object()  # marks a field to leave out


def ser(v):
    if isinstance(v, Raw):
        return v.text
    if isinstance(v, Obj):
        return "{" + ",".join(ser(k) + ":" + ser(x) for k, x in v.pairs) + "}"
    if isinstance(v, dict):
        return "{" + ",".join(ser(k) + ":" + ser(x) for k, x in v.items() if x is not DEL) + "}"
    if isinstance(v, list):
        return "[" + ",".join(ser(x) for x in v) + "]"
    # str, int, float, bool, None
    return json.dumps(v, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# Base messages

IDS = {
    "intake": "3f2b8c1e-5a4d-4e6f-9b7a-0c1d2e3f4a5b",
    "assessment": "7a9e0d12-4b3c-4f8e-a1b2-c3d4e5f60718",
    "service": "c0ffee00-1234-4abc-8def-0123456789ab",
    "placement": "5d1c2b3a-6e7f-4a8b-9c0d-1e2f3a4b5c6d",
    "wage": "9b8a7c6d-5e4f-4321-8fed-cba987654321",
    "separation": "e1d2c3b4-a5f6-4789-9abc-def012345678",
    "exit": "2468ace0-1357-4bdf-8642-0fedcba97531",
    "retraction": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
}
OTHER_ID = "11111111-2222-4333-8444-555555555555"
OTHER_ID2 = "66666666-7777-4888-9999-aaaaaaaaaaaa"

PAYLOADS = {
    "intake": {"referral_source": "vocational rehabilitation", "program": "supported employment"},
    "assessment": {"assessment_type": "vocational"},
    "service": {"service_type": "job development"},
    "placement": {"job_id": "J-2026-0117", "employer_id": "EMP-88231", "hourly_wage": 17.25,
                  "hours_per_week": 24, "competitive_integrated": True, "occupation_code": "35-2021"},
    "wage": {"job_id": "J-2026-0117", "period_start": "2026-02-16", "period_end": "2026-03-01",
             "gross_wages": 828.0, "hours_worked": 48},
    "separation": {"job_id": "J-2026-0117", "reason": "quit"},
    "exit": {"outcome": "employed"},
    "retraction": {"retracted_event_id": OTHER_ID, "reason": "entered for the wrong participant"},
}


def msg(t, pl=None, **env):
    """A valid message of type t (as a dict), with envelope overrides (DEL leaves a field out)."""
    d = {
        "event_id": IDS.get(t, IDS["placement"]),
        "event_type": t,
        "schema_version": 1,
        "consortium_id": C,
        "agency_id": "harbor-works",
        "participant_id": "P-10042",
        "occurred_on": "2026-03-01",
        "recorded_at": "2026-03-03T09:15:00-05:00",
    }
    d["payload"] = dict(PAYLOADS.get(t, PAYLOADS["placement"]))
    if pl is not None:
        for k, v in pl.items():
            d["payload"][k] = v
        d["payload"] = {k: v for k, v in d["payload"].items() if v is not DEL}
    for k, v in env.items():
        if k == "payload_obj":  # replace the payload wholesale
            d["payload"] = v
        else:
            d[k] = v
    if "payload" in d:
        d["payload"] = d.pop("payload")  # keep the payload last, as producers usually write it
    return {k: v for k, v in d.items() if v is not DEL}


def topic(t):
    return f"outcomes.{C}.{t}"


CASES = []
EXPRESSIBLE_CODES = {"ok", "unknown_event_type", "unsupported_schema_version", "schema_violation",
                     "out_of_range"}


def case(name, raw, expect, field=None, expressible=None, tp="auto", raw_bytes=None, consortium=C,
         event_type=None):
    """Adds a case. raw: dict / Obj / str. tp: "auto" = the topic of the message's event type,
    None = file source, or a topic name."""
    if not isinstance(raw, str):
        if event_type is None and isinstance(raw, dict):
            event_type = raw.get("event_type")
        raw = ser(raw)
    if tp == "auto":
        tp = topic(event_type) if isinstance(event_type, str) and event_type in IDS else None
    if expressible is None:
        expressible = expect in EXPRESSIBLE_CODES
    b64 = None
    if raw_bytes is not None:
        try:
            raw = raw_bytes.decode("utf-8")  # valid UTF-8 (e.g. UTF-16 text of ASCII): raw carries it
        except UnicodeDecodeError:
            b64 = base64.b64encode(raw_bytes).decode("ascii")
            raw = raw_bytes.decode("utf-8", errors="replace")  # a readable rendering only
    if any(c["name"] == name for c in CASES):
        raise SystemExit(f"duplicate case name {name!r}")
    CASES.append({"name": name, "consortium": consortium, "topic": tp, "raw": raw,
                  "raw_base64": b64, "expect": expect, "field": field,
                  "schema_expressible": expressible})


TYPES = list(IDS)

# =============================================================================================
# ok: valid messages
# =============================================================================================

# intake
case("ok intake all optional fields", msg("intake", supersedes=OTHER_ID), "ok")
case("ok intake optional fields null", msg("intake", {"referral_source": None, "program": None},
                                             supersedes=None), "ok", tp=None)
case("ok intake minimal (empty payload)", msg("intake", payload_obj={}), "ok")
case("ok intake empty program string (no length rule)", msg("intake", {"program": ""}), "ok")
# assessment
for i, a in enumerate(["vocational", "situational", "benefits", "other"]):
    case(f"ok assessment {a}", msg("assessment", {"assessment_type": a}), "ok",
         tp=None if i % 2 else "auto")
case("ok assessment with supersedes", msg("assessment", supersedes=OTHER_ID), "ok")
# service
case("ok service", msg("service"), "ok")
case("ok service service_type 64 code points (multi-byte)", msg("service", {"service_type": "é" * 64}), "ok")
case("ok service service_type 1 code point", msg("service", {"service_type": "x"}), "ok", tp=None)
case("ok service supersedes null", msg("service", supersedes=None), "ok")
# placement
case("ok placement all optional fields", msg("placement", supersedes=OTHER_ID), "ok")
case("ok placement optional fields null", msg("placement", {"employer_id": None, "occupation_code": None},
                                                supersedes=None), "ok")
case("ok placement minimal", msg("placement", {"employer_id": DEL, "occupation_code": DEL}), "ok", tp=None)
case("ok placement hourly_wage 0", msg("placement", {"hourly_wage": 0}), "ok")
case("ok placement hourly_wage 1000", msg("placement", {"hourly_wage": 1000}), "ok")
case("ok placement hourly_wage 1000.0", msg("placement", {"hourly_wage": Raw("1000.0")}), "ok")
case("ok placement hourly_wage 1e3", msg("placement", {"hourly_wage": Raw("1e3")}), "ok")
case("ok placement hourly_wage -0", msg("placement", {"hourly_wage": Raw("-0")}), "ok")
case("ok placement hourly_wage -0.0", msg("placement", {"hourly_wage": Raw("-0.0")}), "ok")
case("ok placement hours_per_week 80", msg("placement", {"hours_per_week": 80}), "ok")
case("ok placement hours_per_week 0.0001", msg("placement", {"hours_per_week": 0.0001}), "ok")
case("ok placement hours_per_week 5e-324 (smallest float64 above 0)",
     msg("placement", {"hours_per_week": Raw("5e-324")}), "ok")
case("ok placement competitive_integrated false", msg("placement", {"competitive_integrated": False}), "ok")
case("ok placement job_id 64 code points", msg("placement", {"job_id": "ü" * 64}), "ok")
case("ok placement employer_id empty string (no length rule)", msg("placement", {"employer_id": ""}), "ok")
# Numbers that only float64 rounding puts in range: JSON Schema itself does not fix how numbers are read.
case("ok placement hourly_wage 1000.00000000000001 rounds to 1000 as float64",
     msg("placement", {"hourly_wage": Raw("1000.00000000000001")}), "ok", expressible=False)
case("ok placement hourly_wage 1e-400 rounds to 0 as float64",
     msg("placement", {"hourly_wage": Raw("1e-400")}), "ok", expressible=False)
# wage
case("ok wage", msg("wage"), "ok")
case("ok wage one-day period", msg("wage", {"period_start": "2026-03-01", "period_end": "2026-03-01"}), "ok")
case("ok wage period 31 days inclusive",
     msg("wage", {"period_start": "2026-01-01", "period_end": "2026-01-31"}, occurred_on="2026-01-31"), "ok")
case("ok wage period 31 days inclusive across leap day",
     msg("wage", {"period_start": "2024-02-01", "period_end": "2024-03-02"}, occurred_on="2024-03-02",
         recorded_at="2024-03-05T10:00:00Z"), "ok")
case("ok wage period 31 days across year end",
     msg("wage", {"period_start": "2025-12-15", "period_end": "2026-01-14"}, occurred_on="2026-01-14"), "ok")
case("ok wage zero wages and hours", msg("wage", {"gross_wages": 0, "hours_worked": 0}), "ok", tp=None)
case("ok wage maximum wages and hours", msg("wage", {"gross_wages": 100000, "hours_worked": 744}), "ok")
case("ok wage with supersedes", msg("wage", supersedes=OTHER_ID), "ok")
# separation
for i, r in enumerate(["quit", "laid_off", "fired", "temporary_end", "other"]):
    case(f"ok separation {r}", msg("separation", {"reason": r}), "ok", tp=None if i % 2 else "auto")
# exit
for i, o in enumerate(["employed", "not_employed", "other"]):
    case(f"ok exit {o}", msg("exit", {"outcome": o}), "ok", tp=None if i % 2 else "auto")
case("ok exit with supersedes null", msg("exit", supersedes=None), "ok")
# retraction
case("ok retraction with reason", msg("retraction"), "ok")
case("ok retraction reason null and supersedes null", msg("retraction", {"reason": None}, supersedes=None), "ok")
case("ok retraction minimal", msg("retraction", {"reason": DEL}), "ok", tp=None)
case("ok retraction upper-case retracted_event_id",
     msg("retraction", {"retracted_event_id": OTHER_ID2.upper()}), "ok")
case("ok retraction naming its own event_id (no rule against it)",
     msg("retraction", {"retracted_event_id": IDS["retraction"]}), "ok")

# envelope variants
case("ok upper-case event_id", msg("placement", event_id=IDS["placement"].upper()), "ok")
case("ok mixed-case event_id", msg("placement", event_id="5D1c2B3a-6E7f-4A8b-9C0d-1E2f3A4b5C6d"), "ok")
case("ok supersedes equals own event_id but in another case (exact string compare)",
     msg("placement", supersedes=IDS["placement"].upper()), "ok")
case("ok nil UUID event_id", msg("exit", event_id="00000000-0000-0000-0000-000000000000"), "ok")
case("ok schema_version 1.0", msg("placement", schema_version=Raw("1.0")), "ok")
case("ok schema_version 1e0", msg("placement", schema_version=Raw("1e0")), "ok")
case("ok schema_version 1.0000000000000001 is 1 as float64",
     msg("placement", schema_version=Raw("1.0000000000000001")), "ok", expressible=False)
case("ok recorded_at Z", msg("placement", recorded_at="2026-03-03T14:15:00Z"), "ok")
case("ok recorded_at fraction", msg("placement", recorded_at="2026-03-03T09:15:00.123456789-05:00"), "ok")
case("ok recorded_at one fraction digit", msg("placement", recorded_at="2026-03-03T09:15:00.5Z"), "ok")
case("ok recorded_at -00:00", msg("placement", recorded_at="2026-03-03T14:15:00-00:00"), "ok")
case("ok recorded_at +23:59", msg("placement", recorded_at="2026-03-03T14:15:00+23:59"), "ok")
case("ok recorded_at 23:59:59", msg("placement", recorded_at="2026-03-03T23:59:59Z"), "ok")
case("ok recorded_at 00:00:00", msg("placement", recorded_at="2026-03-03T00:00:00+00:00"), "ok")
case("ok recorded_at leap day", msg("placement", occurred_on="2024-02-29",
                                      recorded_at="2024-02-29T12:00:00Z"), "ok")
case("ok occurred_on equals local date of recorded_at whose UTC date is earlier",
     msg("placement", occurred_on="2026-03-02", recorded_at="2026-03-02T01:00:00+05:00"), "ok")
case("ok occurred_on equals local date of recorded_at whose UTC date is later",
     msg("placement", occurred_on="2026-03-02", recorded_at="2026-03-02T23:30:00-05:00"), "ok")
case("ok occurred_on long before recorded_at", msg("placement", occurred_on="2019-07-04"), "ok")
case("ok wage occurred_on = period_end = local date of recorded_at",
     msg("wage", {"period_start": "2026-03-01", "period_end": "2026-03-03"}, occurred_on="2026-03-03"), "ok")
case("ok participant_id 128 multi-byte code points",
     msg("placement", participant_id="語" * 128), "ok")
case("ok participant_id 128 four-byte code points", msg("placement", participant_id="😀" * 128), "ok")
case("ok participant_id 128 code points written as surrogate-pair escapes",
     msg("placement", participant_id=Raw('"' + "\\ud83d\\ude00" * 128 + '"')), "ok")
case("ok participant_id 128 ASCII characters", msg("placement", participant_id="p" * 128), "ok")
case("ok participant_id 1 character", msg("placement", participant_id="7"), "ok")
case("ok participant_id with spaces and colon", msg("placement", participant_id="case 12:b"), "ok")
case("ok participant_id with escaped control characters",
     msg("placement", participant_id=Raw('"P\\u0000\\t1"')), "ok")
case("ok U+FEFF inside a string value", msg("intake", {"program": "\ufeffsupported employment"}), "ok")
case("ok U+FEFF inside a string value as an escape",
     msg("intake", {"program": Raw('"\\ufeffsupported employment"')}), "ok")
case("ok U+2028 inside a string value", msg("intake", {"referral_source": "line\u2028separator"}), "ok")
case("ok escaped key names", Obj([(Raw('"event\\u005fid"'), IDS["exit"])] +
                                [(k, v) for k, v in msg("exit").items() if k != "event_id"]), "ok",
     event_type="exit")
case("ok agency_id 64 characters", msg("placement", agency_id="a" * 64), "ok")
case("ok agency_id containing 'unknown'", msg("placement", agency_id="unknown-2"), "ok")
case("ok agency_id digits and dashes", msg("placement", agency_id="-0-"), "ok")
case("ok fields in another order", Obj(reversed(list(msg("separation").items()))), "ok", event_type="separation")
case("ok whitespace around and inside the object",
     " \t\r\n{ \"event_id\" : \"%s\" ,\n \"event_type\":\"exit\", \"schema_version\":1,\"consortium_id\":\"north-shore\","
     "\"agency_id\":\"harbor-works\",\"participant_id\":\"P-10042\",\"occurred_on\":\"2026-03-01\","
     "\"recorded_at\":\"2026-03-03T09:15:00-05:00\",\"payload\":{ \"outcome\" : \"employed\" } }\r\n" % IDS["exit"],
     "ok", event_type="exit")
case("ok pretty-printed", json.dumps(msg("exit"), indent=2), "ok", event_type="exit")

# exactly 1 MiB (bytes, not characters: the padding is 2-byte 'é')
def padded(total_bytes, tail=""):
    base = ser(msg("intake", {"program": "@@PAD@@"}))
    room = total_bytes - (len(base.encode()) - len("@@PAD@@")) - len(tail.encode())
    pad = "é" * (room // 2) + "x" * (room % 2)
    s = base.replace("@@PAD@@", pad) + tail
    assert len(s.encode()) == total_bytes, (len(s.encode()), total_bytes)
    return s


case("ok exactly 1 MiB (1048576 bytes)", padded(MIB), "ok", event_type="intake")

# =============================================================================================
# too_large
# =============================================================================================
case("too_large 1048577 bytes (fewer characters than bytes)", padded(MIB + 1), "too_large",
     event_type="intake", expressible=False)
trunc = padded(MIB + 4)
assert trunc.endswith('"}}')
trunc = trunc[:-3]  # cut off inside the string: not valid JSON either
assert len(trunc.encode()) == MIB + 1
case("too_large wins over malformed_json", trunc, "too_large", tp=topic("intake"), expressible=False)

# =============================================================================================
# malformed_json
# =============================================================================================
GOOD = ser(msg("placement"))
MJ = dict(expect="malformed_json", expressible=False, tp=topic("placement"))


def mj(name, raw=None, raw_bytes=None, tp=topic("placement")):
    case(name, raw if raw is not None else "", "malformed_json", None, False, tp=tp, raw_bytes=raw_bytes)


mj("malformed empty message", "")
mj("malformed only whitespace", "  \r\n")
mj("malformed plain text", "hello")
mj("malformed JSON array instead of an object", "[" + GOOD + "]")
mj("malformed JSON string", '"placement"')
mj("malformed JSON null", "null")
mj("malformed JSON number", "42")
mj("malformed JSON true", "true")
mj("malformed trailing garbage", GOOD + " x")
mj("malformed two objects", GOOD + GOOD)
mj("malformed two objects on two lines", GOOD + "\n" + GOOD)
mj("malformed truncated", GOOD[:-5])
mj("malformed missing closing brace", GOOD[:-1])
mj("malformed trailing comma", GOOD[:-2] + "},}")
mj("malformed single quotes", GOOD.replace('"event_type"', "'event_type'"))
mj("malformed unquoted key", GOOD.replace('"event_type"', "event_type"))
mj("malformed comment", "// placement\n" + GOOD)
mj("malformed NaN", ser(msg("placement", {"hourly_wage": Raw("NaN")})))
mj("malformed Infinity", ser(msg("placement", {"hourly_wage": Raw("Infinity")})))
mj("malformed -Infinity", ser(msg("placement", {"hourly_wage": Raw("-Infinity")})))
mj("malformed NaN in an unknown field", ser(msg("placement", extra=Raw("NaN"))))
mj("malformed hex number", ser(msg("placement", {"hourly_wage": Raw("0x10")})))
mj("malformed leading zero", ser(msg("placement", {"hours_per_week": Raw("024")})))
mj("malformed leading plus", ser(msg("placement", {"hourly_wage": Raw("+17.25")})))
mj("malformed leading dot", ser(msg("placement", {"hourly_wage": Raw(".25")})))
mj("malformed trailing dot", ser(msg("placement", {"hourly_wage": Raw("17.")})))
mj("malformed leading BOM", "\ufeff" + GOOD)
mj("malformed unpaired high surrogate escape", ser(msg("placement", participant_id=Raw('"P\\ud800"'))))
mj("malformed unpaired low surrogate escape", ser(msg("placement", participant_id=Raw('"\\udc00P"'))))
mj("malformed high surrogate escape followed by a non-surrogate escape",
   ser(msg("placement", participant_id=Raw('"\\ud83d\\u0041"'))))
mj("malformed reversed surrogate pair escapes", ser(msg("placement", participant_id=Raw('"\\ude00\\ud83d"'))))
mj("malformed unpaired surrogate escape in a key", ser(Obj(list(msg("placement").items()) +
                                                           [(Raw('"x\\ud800"'), 1)])))
mj("malformed bad escape", ser(msg("placement", participant_id=Raw('"P\\x41"'))))
mj("malformed short unicode escape", ser(msg("placement", participant_id=Raw('"P\\u12"'))))
mj("malformed raw tab inside a string", ser(msg("placement", participant_id=Raw('"P\t1"'))))
mj("malformed raw newline inside a string", ser(msg("placement", participant_id=Raw('"P\n1"'))))
g = GOOD.encode()
mj("malformed invalid UTF-8 byte 0xFF", raw_bytes=g.replace(b"P-10042", b"P-\xff10042"))
mj("malformed Latin-1 encoded e-acute", raw_bytes=g.replace(b"P-10042", b"Ren\xe9"))
mj("malformed overlong UTF-8 encoding of '/'", raw_bytes=g.replace(b"P-10042", b"P\xc0\xaf1"))
mj("malformed UTF-8-encoded surrogate (CESU-8)", raw_bytes=g.replace(b"P-10042", b"P\xed\xa0\x80"))
mj("malformed truncated multi-byte sequence", raw_bytes=g.replace(b"P-10042", b"P\xe8\xaa"))
mj("malformed invalid UTF-8 outside any string", raw_bytes=g[:-1] + b"\x80}")
mj("malformed UTF-16LE encoded message", raw_bytes=GOOD.encode("utf-16-le"))
mj("malformed UTF-16 with BOM", raw_bytes=GOOD.encode("utf-16"))
mj("malformed NUL byte after the object", GOOD + "\u0000")
mj("malformed NaN beats unknown event type", ser(msg("placement", event_type="hire", payload_obj={"x": Raw("NaN")})))
mj("malformed repeated key with NaN value", ser(Obj(list(msg("placement").items()) + [("agency_id", Raw("NaN"))])))

# =============================================================================================
# unknown_event_type
# =============================================================================================
U = "unknown_event_type"
PT = topic("placement")
case("unknown event_type hire", msg("placement", event_type="hire"), U, "event_type", tp=PT)
case("unknown event_type empty string", msg("placement", event_type=""), U, "event_type", tp=PT)
case("unknown event_type capitalized", msg("placement", event_type="Placement"), U, "event_type", tp=PT)
case("unknown event_type upper case", msg("exit", event_type="EXIT"), U, "event_type", tp=topic("exit"))
case("unknown event_type leading space", msg("placement", event_type=" placement"), U, "event_type", tp=PT)
case("unknown event_type trailing newline", msg("placement", event_type="placement\n"), U, "event_type", tp=PT)
case("unknown event_type plural", msg("retraction", event_type="retractions"), U, "event_type", tp=None)
case("unknown event_type dlq", msg("placement", event_type="dlq"), U, "event_type", tp=None)
case("unknown event_type with U+FEFF", msg("placement", event_type="\ufeffplacement"), U, "event_type", tp=PT)
case("unknown event_type beats unsupported schema_version",
     msg("placement", event_type="hire", schema_version=2), U, "event_type", tp=PT)
case("unknown event_type beats schema_version \"1\"",
     msg("placement", event_type="hire", schema_version="1"), U, "event_type", tp=PT)
case("unknown event_type beats missing payload", msg("placement", event_type="hire", payload=DEL), U,
     "event_type", tp=PT)
case("unknown event_type beats bad event_id and consortium",
     msg("placement", event_type="job", event_id="x", consortium_id="south-bay"), U, "event_type", tp=PT)
case("unknown event_type beats out_of_range", msg("placement", {"hourly_wage": 5000}, event_type="hire"), U,
     "event_type", tp=PT)
case("unknown event_type from the last of repeated event_type keys",
     Obj(list(msg("placement").items()) + [("event_type", "hire")]), U, "event_type", False, tp=PT)

# =============================================================================================
# unsupported_schema_version
# =============================================================================================
V = "unsupported_schema_version"
for lit in ["2", "0", "-1", "1.5", "2.0", "1.0001", "1e1", "-1.0"]:
    case(f"unsupported schema_version {lit}", msg("placement", schema_version=Raw(lit)), V, "schema_version")
case("unsupported schema_version 1e400 (a number, too large for float64)",
     msg("placement", schema_version=Raw("1e400")), V, "schema_version", False)
case("unsupported schema_version beats missing field", msg("placement", schema_version=2, agency_id=DEL), V,
     "schema_version")
case("unsupported schema_version beats missing event_type",
     msg("placement", schema_version=2, event_type=DEL), V, "schema_version", tp=PT)
case("unsupported schema_version beats unknown field", msg("wage", {"bonus": 5}, schema_version=2), V,
     "schema_version")
case("unsupported schema_version beats out_of_range", msg("placement", {"hourly_wage": -1}, schema_version=2),
     V, "schema_version")
case("unsupported schema_version beats occurred_after_recorded",
     msg("placement", schema_version=2, occurred_on="2026-03-04"), V, "schema_version")
case("unsupported schema_version beats consortium_mismatch",
     msg("placement", schema_version=2, consortium_id="south-bay"), V, "schema_version")
case("unsupported schema_version beats topic_mismatch",
     msg("placement", schema_version=3), V, "schema_version", tp=topic("wage"))
case("unsupported schema_version beats repeated key",
     Obj(list(msg("exit").items()) + [("schema_version", 2)]), V, "schema_version", False, tp=topic("exit"))
case("unsupported schema_version from the last of repeated keys (1 then 2)",
     Obj(list(msg("placement", schema_version=1).items()) + [("schema_version", 2)]), V, "schema_version", False,
     tp=PT)

# =============================================================================================
# schema_violation
# =============================================================================================
S = "schema_violation"


def sv(name, m, field, expressible=None, tp="auto", **kw):
    case(name, m, S, field, expressible, tp=tp, **kw)


ENV_REQUIRED = ["event_id", "event_type", "schema_version", "consortium_id", "agency_id", "participant_id",
                "occurred_on", "recorded_at", "payload"]
for f in ENV_REQUIRED:
    sv(f"missing {f}", msg("placement", **{f: DEL}), f, tp=PT)
    sv(f"null {f}", msg("placement", **{f: None}), f, tp=PT)

# wrong types
for f, v in [("event_id", 12345), ("event_type", 5), ("event_type", ["placement"]), ("event_type", True),
             ("schema_version", "1"), ("schema_version", True), ("schema_version", [1]),
             ("schema_version", {"v": 1}), ("consortium_id", 7), ("agency_id", ["harbor-works"]),
             ("participant_id", 10042), ("participant_id", {"id": "P-10042"}), ("occurred_on", 20260301),
             ("recorded_at", 1772547300), ("supersedes", 1), ("supersedes", {"event_id": OTHER_ID}),
             ("payload", ["outcome"]), ("payload", "employed"), ("payload", 0)]:
    sv(f"wrong type {f} {type(v).__name__} {json.dumps(v)}", msg("placement", **{f: v}), f, tp=PT)

# top-level unknown fields
sv("unknown top-level field", msg("placement", extra="x"), "extra")
sv("unknown top-level field null", msg("placement", note=None), "note")
sv("unknown top-level field person_key", msg("placement", person_key="ab12"), "person_key")
sv("top-level field name in another case (Event_id beside event_id)",
   Obj(list(msg("placement").items()) + [("Event_id", IDS["placement"])]), "Event_id", event_type="placement")
sv("payload fields at top level", {**msg("exit"), "outcome": "employed"}, "outcome")

# event_id patterns
for name, v in [("not a UUID", "abc"), ("no dashes", IDS["placement"].replace("-", "")),
                ("braces", "{" + IDS["placement"] + "}"), ("urn prefix", "urn:uuid:" + IDS["placement"]),
                ("last group 11 digits", IDS["placement"][:-1]), ("last group 13 digits", IDS["placement"] + "a"),
                ("non-hex letter", "5d1c2b3a-6e7f-4a8b-9c0d-1e2f3a4b5c6g"),
                ("trailing newline", IDS["placement"] + "\n"), ("leading space", " " + IDS["placement"]),
                ("dashes misplaced", "5d1c2b3a6-e7f-4a8b-9c0d-1e2f3a4b5c6d"), ("empty", ""),
                ("full-width digits", "５d1c2b3a-6e7f-4a8b-9c0d-1e2f3a4b5c6d")]:
    sv(f"event_id {name}", msg("placement", event_id=v), "event_id")

# consortium_id patterns (also differ from the topic: schema_violation comes first)
for name, v in [("empty", ""), ("upper case", "North-Shore"), ("underscore", "north_shore"),
                ("space", "north shore"), ("65 characters", "n" * 65), ("trailing newline", "north-shore\n"),
                ("dot", "north.shore"), ("non-ASCII letter", "nörth-shore")]:
    sv(f"consortium_id {name}", msg("placement", consortium_id=v), "consortium_id")

# agency_id patterns
for name, v in [("reserved 'unknown'", "unknown"), ("upper case", "Harbor-Works"), ("empty", ""),
                ("65 characters", "a" * 65), ("space", "harbor works"), ("trailing newline", "harbor-works\n"),
                ("slash", "harbor/works")]:
    sv(f"agency_id {name}", msg("placement", agency_id=v), "agency_id")

# participant_id lengths
sv("participant_id empty", msg("placement", participant_id=""), "participant_id")
sv("participant_id 129 multi-byte code points", msg("placement", participant_id="語" * 129), "participant_id")
sv("participant_id 129 ASCII characters", msg("placement", participant_id="p" * 129), "participant_id")
sv("participant_id 129 code points as surrogate-pair escapes",
   msg("placement", participant_id=Raw('"' + "\\ud83d\\ude00" * 129 + '"')), "participant_id")

# dates
for name, v in [("February 30", "2026-02-30"), ("February 29 in a common year", "2025-02-29"),
                ("month 13", "2026-13-01"), ("month 00", "2026-00-10"), ("day 00", "2026-03-00"),
                ("April 31", "2026-04-31"), ("one-digit month and day", "2026-3-1"),
                ("with time", "2026-03-01T00:00:00Z"), ("basic format", "20260301"),
                ("slashes", "2026/03/01"), ("leading space", " 2026-03-01"), ("trailing newline", "2026-03-01\n"),
                ("five-digit year", "12026-03-01"), ("empty", ""), ("week date", "2026-W09-7"),
                ("full-width digits", "２０２６-03-01")]:
    sv(f"occurred_on {name}", msg("placement", occurred_on=v), "occurred_on")

# recorded_at
for name, v in [("lower-case t", "2026-03-03t09:15:00-05:00"), ("lower-case z", "2026-03-03T14:15:00z"),
                ("missing offset", "2026-03-03T09:15:00"), ("leap second", "2026-03-03T23:59:60Z"),
                ("real leap second 2016-12-31T23:59:60Z", "2016-12-31T23:59:60Z"),
                ("offset +24:00", "2026-03-03T09:15:00+24:00"), ("offset minutes 60", "2026-03-03T09:15:00+05:60"),
                ("offset without colon", "2026-03-03T09:15:00+0500"), ("offset hours only", "2026-03-03T09:15:00+05"),
                ("one-digit offset hour", "2026-03-03T09:15:00+5:00"), ("hour 24", "2026-03-03T24:00:00Z"),
                ("minute 60", "2026-03-03T09:60:00Z"), ("no seconds", "2026-03-03T09:15Z"),
                ("space separator", "2026-03-03 09:15:00-05:00"), ("empty fraction", "2026-03-03T09:15:00.Z"),
                ("comma fraction", "2026-03-03T09:15:00,5Z"), ("date only", "2026-03-03"),
                ("February 30", "2026-02-30T09:15:00Z"), ("UTC word", "2026-03-03T09:15:00 UTC"),
                ("trailing newline", "2026-03-03T09:15:00Z\n"), ("one-digit hour", "2026-03-03T9:15:00Z"),
                ("empty", "")]:
    sv(f"recorded_at {name}", msg("placement", recorded_at=v), "recorded_at")

# supersedes
sv("supersedes not a UUID", msg("placement", supersedes="previous"), "supersedes")
sv("supersedes empty string", msg("placement", supersedes=""), "supersedes")
sv("supersedes equal to own event_id", msg("placement", supersedes=IDS["placement"]), "supersedes", False)
sv("supersedes equal to own event_id (wage)", msg("wage", supersedes=IDS["wage"]), "supersedes", False)
sv("retraction with supersedes", msg("retraction", supersedes=OTHER_ID2), "supersedes")
sv("retraction with supersedes equal to retracted_event_id", msg("retraction", supersedes=OTHER_ID), "supersedes")

# payload wrong shape / foreign payloads
sv("intake with a job_id in its payload", msg("intake", {"job_id": "J-2026-0117"}), "payload.job_id")
sv("exit with an empty payload", msg("exit", payload_obj={}), "payload.outcome")

# --- per payload field
P = msg  # shorthand
# intake
sv("intake referral_source number", P("intake", {"referral_source": 3}), "payload.referral_source")
sv("intake program array", P("intake", {"program": ["supported employment"]}), "payload.program")
sv("intake program boolean", P("intake", {"program": True}), "payload.program")
sv("intake unknown payload field", P("intake", {"priority": "high"}), "payload.priority")
# assessment
sv("assessment missing assessment_type", P("assessment", payload_obj={}), "payload.assessment_type")
sv("assessment assessment_type null", P("assessment", {"assessment_type": None}), "payload.assessment_type")
sv("assessment assessment_type capitalized", P("assessment", {"assessment_type": "Vocational"}),
   "payload.assessment_type")
sv("assessment assessment_type not in list", P("assessment", {"assessment_type": "medical"}),
   "payload.assessment_type")
sv("assessment assessment_type empty", P("assessment", {"assessment_type": ""}), "payload.assessment_type")
sv("assessment assessment_type number", P("assessment", {"assessment_type": 1}), "payload.assessment_type")
sv("assessment unknown payload field", P("assessment", {"score": 7}), "payload.score")
# service
sv("service missing service_type", P("service", payload_obj={}), "payload.service_type")
sv("service service_type null", P("service", {"service_type": None}), "payload.service_type")
sv("service service_type empty", P("service", {"service_type": ""}), "payload.service_type")
sv("service service_type 65 code points (multi-byte)", P("service", {"service_type": "é" * 65}),
   "payload.service_type")
sv("service service_type number", P("service", {"service_type": 4}), "payload.service_type")
sv("service unknown payload field", P("service", {"provider": "acme"}), "payload.provider")
# placement
for f in ["job_id", "hourly_wage", "hours_per_week", "competitive_integrated"]:
    sv(f"placement missing {f}", P("placement", {f: DEL}), f"payload.{f}")
    sv(f"placement {f} null", P("placement", {f: None}), f"payload.{f}")
sv("placement job_id empty", P("placement", {"job_id": ""}), "payload.job_id")
sv("placement job_id 65 code points", P("placement", {"job_id": "ü" * 65}), "payload.job_id")
sv("placement job_id number", P("placement", {"job_id": 117}), "payload.job_id")
sv("placement employer_id number", P("placement", {"employer_id": 88231}), "payload.employer_id")
sv("placement hourly_wage string", P("placement", {"hourly_wage": "17.25"}), "payload.hourly_wage")
sv("placement hourly_wage boolean", P("placement", {"hourly_wage": True}), "payload.hourly_wage")
sv("placement hours_per_week string", P("placement", {"hours_per_week": "24"}), "payload.hours_per_week")
sv("placement competitive_integrated string", P("placement", {"competitive_integrated": "true"}),
   "payload.competitive_integrated")
sv("placement competitive_integrated number", P("placement", {"competitive_integrated": 1}),
   "payload.competitive_integrated")
sv("placement occupation_code number", P("placement", {"occupation_code": 352021}), "payload.occupation_code")
sv("placement unknown payload field", P("placement", {"start_date": "2026-03-01"}), "payload.start_date")
sv("placement unknown payload field null", P("placement", {"notes": None}), "payload.notes")
# wage
for f in ["job_id", "period_start", "period_end", "gross_wages", "hours_worked"]:
    sv(f"wage missing {f}", P("wage", {f: DEL}), f"payload.{f}")
    sv(f"wage {f} null", P("wage", {f: None}), f"payload.{f}")
sv("wage job_id empty", P("wage", {"job_id": ""}), "payload.job_id")
sv("wage period_start February 30", P("wage", {"period_start": "2026-02-30"}), "payload.period_start")
sv("wage period_start slashes", P("wage", {"period_start": "2026/02/16"}), "payload.period_start")
sv("wage period_end April 31", P("wage", {"period_end": "2026-04-31"}),
   "payload.period_end")
sv("wage period_end timestamp", P("wage", {"period_end": "2026-03-01T00:00:00Z"}), "payload.period_end")
sv("wage gross_wages string", P("wage", {"gross_wages": "828.00"}), "payload.gross_wages")
sv("wage hours_worked string", P("wage", {"hours_worked": "48"}), "payload.hours_worked")
sv("wage unknown payload field", P("wage", {"employer_id": "EMP-88231"}), "payload.employer_id")
# separation
for f in ["job_id", "reason"]:
    sv(f"separation missing {f}", P("separation", {f: DEL}), f"payload.{f}")
    sv(f"separation {f} null", P("separation", {f: None}), f"payload.{f}")
sv("separation reason not in list", P("separation", {"reason": "resigned"}), "payload.reason")
sv("separation reason capitalized", P("separation", {"reason": "Quit"}), "payload.reason")
sv("separation reason with a space", P("separation", {"reason": "laid off"}), "payload.reason")
sv("separation job_id 65 characters", P("separation", {"job_id": "j" * 65}), "payload.job_id")
sv("separation unknown payload field", P("separation", {"last_day": "2026-03-01"}), "payload.last_day")
# exit
sv("exit missing outcome", P("exit", {"outcome": DEL}), "payload.outcome")
sv("exit outcome null", P("exit", {"outcome": None}), "payload.outcome")
sv("exit outcome capitalized", P("exit", {"outcome": "Employed"}), "payload.outcome")
sv("exit outcome not in list", P("exit", {"outcome": "success"}), "payload.outcome")
sv("exit outcome boolean", P("exit", {"outcome": True}), "payload.outcome")
sv("exit unknown payload field", P("exit", {"closed_on": "2026-03-01"}), "payload.closed_on")
# retraction
sv("retraction missing retracted_event_id", P("retraction", {"retracted_event_id": DEL}),
   "payload.retracted_event_id")
sv("retraction retracted_event_id null", P("retraction", {"retracted_event_id": None}),
   "payload.retracted_event_id")
sv("retraction retracted_event_id not a UUID", P("retraction", {"retracted_event_id": "evt-17"}),
   "payload.retracted_event_id")
sv("retraction retracted_event_id number", P("retraction", {"retracted_event_id": 17}),
   "payload.retracted_event_id")
sv("retraction reason number", P("retraction", {"reason": 3}), "payload.reason")
sv("retraction unknown payload field", P("retraction", {"supersedes": OTHER_ID2}), "payload.supersedes")

# repeated keys (JSON Schema cannot see them: a parser keeps one value)
def rep(t, key, value):
    return Obj(list(msg(t).items()) + [(key, value)])


sv("repeated top-level key with the same value", rep("placement", "agency_id", "harbor-works"), "agency_id",
   False, event_type="placement")
sv("repeated top-level key with another value", rep("placement", "participant_id", "P-2"), "participant_id",
   False, event_type="placement")
sv("repeated event_type, last value known", Obj([("event_type", "hire")] + list(msg("placement").items())),
   "event_type", False, tp=PT)
sv("repeated schema_version, last value 1", Obj([("schema_version", 2)] + list(msg("placement").items())),
   "schema_version", False, tp=PT)
sv("repeated payload key", rep("exit", "payload", {"outcome": "other"}), "payload", False, event_type="exit")
sv("repeated key inside payload",
   msg("placement", payload_obj=Obj(list(PAYLOADS["placement"].items()) + [("job_id", "J-2")])),
   "payload.job_id", False)
sv("repeated key written once escaped",
   Obj(list(msg("exit").items()) + [(Raw('"event\\u005ftype"'), "exit")]), "event_type", False, event_type="exit")
sv("repeated key with an out-of-range last value",
   msg("placement", payload_obj=Obj(list(PAYLOADS["placement"].items()) + [("hourly_wage", 5000)])),
   "payload.hourly_wage", False)
sv("repeated key beats occurred_after_recorded",
   Obj(list(msg("placement", occurred_on="2026-03-04").items()) + [("agency_id", "harbor-works")]), "agency_id",
   False, event_type="placement")
sv("repeated key beats consortium_mismatch",
   Obj(list(msg("placement", consortium_id="south-bay").items()) + [("agency_id", "harbor-works")]), "agency_id",
   False, event_type="placement")

# schema_violation wins over later reasons
sv("schema_violation beats out_of_range (unknown field)", P("placement", {"hourly_wage": 1000.0001}, extra=1),
   "extra")
sv("schema_violation beats out_of_range (bad date)", P("placement", {"hours_per_week": 0}, occurred_on="2026-02-30"),
   "occurred_on")
sv("schema_violation beats out_of_range (wage period and bad job_id)",
   P("wage", {"job_id": "", "period_start": "2026-01-01"}), "payload.job_id")
sv("schema_violation beats occurred_after_recorded", P("placement", {"job_id": DEL}, occurred_on="2026-03-04"),
   "payload.job_id")
sv("schema_violation beats consortium_mismatch", P("placement", consortium_id="south-bay", agency_id="unknown"),
   "agency_id")
sv("schema_violation beats topic_mismatch", P("placement", {"competitive_integrated": "yes"}), "payload.competitive_integrated",
   tp=topic("wage"))
sv("too large number in a string field", P("placement", {"job_id": Raw("1e400")}), "payload.job_id", False)
sv("too large number in an unknown field", P("placement", {"bonus": Raw("1e400")}), "payload.bonus", False)
sv("too large number as event_type", P("placement", event_type=Raw("1e400")), "event_type", False, tp=PT)
sv("schema_version string beats out_of_range", P("placement", {"hourly_wage": -5}, schema_version="1"),
   "schema_version")

# =============================================================================================
# out_of_range
# =============================================================================================
O = "out_of_range"


def oor(name, m, field, expressible=None, tp="auto", **kw):
    case(name, m, O, field, expressible, tp=tp, **kw)


for f, t, lo, hi, bad_lo, bad_hi in [("hourly_wage", "placement", 0, 1000, "-0.0001", "1000.0001"),
                                     ("gross_wages", "wage", 0, 100000, "-0.0001", "100000.0001"),
                                     ("hours_worked", "wage", 0, 744, "-0.0001", "744.0001")]:
    oor(f"{t} {f} {bad_lo}", P(t, {f: Raw(bad_lo)}), f"payload.{f}")
    oor(f"{t} {f} {bad_hi}", P(t, {f: Raw(bad_hi)}), f"payload.{f}")
oor("placement hourly_wage -1", P("placement", {"hourly_wage": -1}), "payload.hourly_wage")
oor("placement hourly_wage 1e6", P("placement", {"hourly_wage": Raw("1e6")}), "payload.hourly_wage")
oor("placement hourly_wage 1.7976931348623157e308 (largest float64)",
    P("placement", {"hourly_wage": Raw("1.7976931348623157e308")}), "payload.hourly_wage")
oor("placement hours_per_week 0", P("placement", {"hours_per_week": 0}), "payload.hours_per_week")
oor("placement hours_per_week 0.0", P("placement", {"hours_per_week": Raw("0.0")}), "payload.hours_per_week")
oor("placement hours_per_week -0", P("placement", {"hours_per_week": Raw("-0")}), "payload.hours_per_week")
oor("placement hours_per_week -5", P("placement", {"hours_per_week": -5}), "payload.hours_per_week")
oor("placement hours_per_week 80.0001", P("placement", {"hours_per_week": Raw("80.0001")}),
    "payload.hours_per_week")
oor("placement hours_per_week 81", P("placement", {"hours_per_week": 81}), "payload.hours_per_week")
oor("wage hours_worked 745", P("wage", {"hours_worked": 745}), "payload.hours_worked")
oor("wage gross_wages -1", P("wage", {"gross_wages": -1}), "payload.gross_wages")
oor("hours_per_week 1e-400 rounds to 0 as float64", P("placement", {"hours_per_week": Raw("1e-400")}),
    "payload.hours_per_week", False)
oor("hourly_wage 1e400 too large for float64", P("placement", {"hourly_wage": Raw("1e400")}),
    "payload.hourly_wage", False)
oor("hourly_wage -1e400 too large for float64", P("placement", {"hourly_wage": Raw("-1e400")}),
    "payload.hourly_wage", False)
oor("hourly_wage 1E400 upper-case exponent", P("placement", {"hourly_wage": Raw("1E+400")}),
    "payload.hourly_wage", False)
oor("hours_worked 400-digit integer too large for float64",
    P("wage", {"hours_worked": Raw("1" + "0" * 400)}), "payload.hours_worked", False)
oor("gross_wages 2e308 too large for float64", P("wage", {"gross_wages": Raw("2e308")}), "payload.gross_wages",
    False)
oor("wage period_start after period_end",
    P("wage", {"period_start": "2026-03-02", "period_end": "2026-03-01"}), "payload.period_start", False)
oor("wage period 32 days inclusive",
    P("wage", {"period_start": "2025-12-31", "period_end": "2026-01-31"}, occurred_on="2026-01-31"),
    "payload.period_end", False)
oor("wage period 32 days inclusive across leap day",
    P("wage", {"period_start": "2024-02-01", "period_end": "2024-03-03"}, occurred_on="2024-03-03",
      recorded_at="2024-03-05T10:00:00Z"), "payload.period_end", False)
oor("wage period a whole year", P("wage", {"period_start": "2025-03-01"}), "payload.period_end", False)
oor("wage occurred_on before period_end", P("wage", occurred_on="2026-02-28"), "occurred_on", False)
oor("wage occurred_on after period_end", P("wage", occurred_on="2026-03-02"), "occurred_on", False)
oor("wage occurred_on = period_start, not period_end", P("wage", occurred_on="2026-02-16"), "occurred_on", False)
oor("out_of_range beats occurred_after_recorded",
    P("placement", {"hourly_wage": 1001}, occurred_on="2026-03-04"), "payload.hourly_wage")
oor("out_of_range (period) beats occurred_after_recorded",
    P("wage", {"period_start": "2026-03-05", "period_end": "2026-03-04"}, occurred_on="2026-03-04"),
    "payload.period_start", False)
oor("out_of_range beats consortium_mismatch", P("wage", {"gross_wages": -3}, consortium_id="south-bay"),
    "payload.gross_wages")
oor("out_of_range beats topic_mismatch", P("placement", {"hours_per_week": 100}), "payload.hours_per_week",
    tp=topic("exit"))

# =============================================================================================
# occurred_after_recorded
# =============================================================================================
A = "occurred_after_recorded"
case("occurred_on one day after the local date of recorded_at",
     P("placement", occurred_on="2026-03-04"), A, "occurred_on")
case("occurred_on equals the UTC date but is after the local date",
     P("placement", occurred_on="2026-03-02", recorded_at="2026-03-01T23:30:00-05:00"), A, "occurred_on")
case("occurred_on after local date with positive offset",
     P("exit", occurred_on="2026-03-03", recorded_at="2026-03-02T23:59:59.999+14:00"), A, "occurred_on")
case("occurred_on a year after recorded_at", P("intake", occurred_on="2027-03-01"), A, "occurred_on", tp=None)
case("wage period_end after the date of recorded_at",
     P("wage", {"period_start": "2026-03-01", "period_end": "2026-03-04"}, occurred_on="2026-03-04"), A,
     "occurred_on")
case("retraction occurred_on after recorded_at", P("retraction", occurred_on="2026-03-10"), A, "occurred_on")
case("occurred_after_recorded beats consortium_mismatch",
     P("placement", occurred_on="2026-03-04", consortium_id="south-bay"), A, "occurred_on")
case("occurred_after_recorded beats topic_mismatch",
     P("placement", occurred_on="2026-03-04"), A, "occurred_on", tp=topic("wage"))

# =============================================================================================
# consortium_mismatch
# =============================================================================================
M = "consortium_mismatch"
case("consortium mismatch on Kafka", P("placement", consortium_id="south-bay"), M, "consortium_id")
case("consortium mismatch in a file (no topic)", P("placement", consortium_id="south-bay"), M, "consortium_id",
     tp=None)
case("consortium mismatch: longer id with the same prefix", P("exit", consortium_id="north-shore-2"), M,
     "consortium_id")
case("consortium mismatch: shorter id", P("intake", consortium_id="north"), M, "consortium_id", tp=None)
case("consortium mismatch beats topic_mismatch", P("placement", consortium_id="south-bay"), M, "consortium_id",
     tp=topic("wage"))
case("consortium mismatch retraction", P("retraction", consortium_id="lakeside"), M, "consortium_id")

# =============================================================================================
# topic_mismatch
# =============================================================================================
T = "topic_mismatch"
case("placement on the wage topic", P("placement"), T, "event_type", tp=topic("wage"))
case("intake on the retraction topic", P("intake"), T, "event_type", tp=topic("retraction"))
case("retraction on the placement topic", P("retraction"), T, "event_type", tp=topic("placement"))
case("separation on the exit topic", P("separation"), T, "event_type", tp=topic("exit"))
case("placement on a topic of an unknown event type", P("placement"), T, "event_type", tp=f"outcomes.{C}.hire")

for c in CASES:
    for k in ("name", "consortium", "raw", "expect", "schema_expressible"):
        assert c[k] is not None, (c["name"], k)

out = HERE / "cases.json"
with out.open("w", encoding="utf-8", newline="\n") as fh:
    fh.write("[\n")
    fh.write(",\n".join(json.dumps(c, ensure_ascii=False) for c in CASES))
    fh.write("\n]\n")
counts = {}
for c in CASES:
    counts[c["expect"]] = counts.get(c["expect"], 0) + 1
print(f"{len(CASES)} cases -> {out}")
for k, v in sorted(counts.items()):
    print(f"  {k}: {v}")
