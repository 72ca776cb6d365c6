#!/usr/bin/env python3
"""Runs the steps of action.yml as GitHub's runner would, for make dist-check: each step's
`run` under its `shell`, with `${{ inputs.X }}` (the defaults, or INPUT_X from the environment),
`${{ github.* }}`, `${{ runner.* }}` and `${{ steps.ID.outputs.X }}` filled in and its `env`
set, GITHUB_PATH and GITHUB_OUTPUT temporary files; prints the action's outputs as JSON, then
the PATH entries it added, one a line.
usage: action-harness.py ACTION_DIR   (needs ruamel.yaml, as check-jsonschema brings)"""
import json, os, re, subprocess, sys, tempfile
from ruamel.yaml import YAML

root = os.path.abspath(sys.argv[1])
action = YAML(typ="safe").load(open(os.path.join(root, "action.yml")))
assert action["runs"]["using"] == "composite", "not a composite action"
tmp = tempfile.mkdtemp()
gh_path, gh_out = os.path.join(tmp, "path"), os.path.join(tmp, "output")
inputs = {k: os.environ.get("INPUT_" + k.upper(), v.get("default", "")) for k, v in action.get("inputs", {}).items()}
ctx = {"github.action_path": root, "github.action_ref": os.environ.get("ACTION_REF", ""),
       "github.action_repository": "spira-pipe/spira-pipe", "runner.os": "Linux", "runner.arch": "X64"}
steps = {}


def fill(text):
    def one(m):
        e = m.group(1).strip()
        if e.startswith("inputs."):
            return inputs[e[7:]]
        if e.startswith("steps."):
            sid, _, out = e[6:].split(".", 2)
            return steps.get(sid, {}).get(out, "")
        if e in ctx:
            return ctx[e]
        raise SystemExit(f"action-harness: the expression {e!r} is not one it knows")
    return re.sub(r"\$\{\{(.*?)\}\}", one, str(text))


for step in action["runs"]["steps"]:
    open(gh_out, "w").close()
    env = dict(os.environ, GITHUB_PATH=gh_path, GITHUB_OUTPUT=gh_out, RUNNER_TEMP=tmp)
    env.update({k: fill(v) for k, v in step.get("env", {}).items()})
    shell = step.get("shell", "bash")
    r = subprocess.run([shell, "-e", "-c", fill(step["run"])], env=env)
    if r.returncode != 0:
        raise SystemExit(f"action-harness: step {step.get('id', step.get('name', '?'))} failed ({r.returncode})")
    outs = dict(line.split("=", 1) for line in open(gh_out).read().splitlines() if "=" in line)
    if "id" in step:
        steps[step["id"]] = outs
outputs = {k: fill(v["value"]) for k, v in action.get("outputs", {}).items()}
print(json.dumps(outputs))
print(open(gh_path).read().strip() if os.path.exists(gh_path) else "")
