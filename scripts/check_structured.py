#!/usr/bin/env python3
"""Structured output checked by an independent validator: `samtal generate --json-schema`, greedy,
on the tiny fixture models and the default model, each answer parsed and validated with the
`jsonschema` package. Prints `N passed, M failed` last; exits 1 on a failure.

    python3 scripts/check_structured.py SAMTAL_BINARY [DEFAULT_MODEL]
"""
import json
import os
import subprocess
import sys
import tempfile

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMAS = {
    "person": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 20},
            "age": {"type": "integer", "minimum": 0, "maximum": 130},
            "email": {"type": ["string", "null"], "maxLength": 40},
        },
        "required": ["name", "age", "email"],
        "additionalProperties": False,
    },
    "order": {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "minItems": 1,
                "maxItems": 3,
                "items": {
                    "type": "object",
                    "properties": {
                        "sku": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{3}$"},
                        "quantity": {"type": "integer", "minimum": 1, "maximum": 9},
                    },
                    "required": ["sku", "quantity"],
                    "additionalProperties": False,
                },
            },
            "express": {"type": "boolean"},
            "status": {"enum": ["new", "paid", "sent"]},
        },
        "required": ["items", "express", "status"],
        "additionalProperties": False,
    },
    "numbers": {
        "type": "array",
        "items": {"type": "number", "minimum": -10, "maximum": 10},
        "minItems": 2,
        "maxItems": 5,
    },
}
PROMPTS = {
    "person": "Describe a person as JSON.",
    "order": "Write an order as JSON.",
    "numbers": "Give a few numbers as a JSON list.",
}


def main():
    binary = sys.argv[1]
    models = [os.path.join(ROOT, "fixtures/models", m) for m in ("tiny-llama", "tiny-gpt2", "tiny-qwen2")]
    if len(sys.argv) > 2 and sys.argv[2]:
        models.append(sys.argv[2])
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for model in models:
            for name, schema in SCHEMAS.items():
                path = os.path.join(tmp, name + ".json")
                with open(path, "w") as f:
                    json.dump(schema, f)
                label = f"{os.path.basename(model)} {name}"
                r = subprocess.run(
                    [binary, "generate", "--model", model, "--temperature", "0", "-n", "300",
                     "--json-schema", path, PROMPTS[name]],
                    capture_output=True, text=True,
                )
                try:
                    if r.returncode != 0:
                        raise RuntimeError(r.stderr.strip())
                    answer = json.loads(r.stdout)
                    jsonschema.validate(answer, schema)
                    print(f"PASS {label}: {r.stdout.strip()[:100]}")
                    passed += 1
                except Exception as e:  # noqa: BLE001 - every failure is reported the same way
                    print(f"FAIL {label}: {e}: {r.stdout.strip()[:200]!r}")
                    failed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
