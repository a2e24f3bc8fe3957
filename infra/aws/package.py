"""`make package`: the deployable CloudFormation template and zip of each stage, without an AWS account.

    python -m infra.aws.package [dev] [prod]      # -> build/package-STAGE/{sam.json,deployment.zip}

For each stage: checks the committed IAM policy files against the code, writes the merge template
(build/merge-STAGE.json), and runs `chalice package --pkg-format cloudformation --merge-template` with
dummy credentials (only the package registry is reached, for the Lambda wheels). Then:
- the zip drops what the Lambda runtime already has (boto3, botocore, s3transfer: pynamodb pulls botocore
  in) and never carries Chalice's command-line dependencies (the project is packaged from a copy whose
  requirements leave out `chalice`; Chalice adds its runtime module itself);
- every module of the zip carries its bytecode (`add_bytecode`): Lambda's /var/task is read-only, so a
  package without it compiles the app and its bundled libraries from source on every cold start;
- the zip is proven importable: unpacked and imported by a bare interpreter that sees only the zip and the
  runtime's boto3/botocore, every function handler of the template resolves;
- every resource of the merged template has a Type (a merge that missed a Chalice resource would not);
- the stream handlers' roles are the ones allowed to send to the stream-failures queue (stream_failures.py);
- every function has a role of its own carrying exactly its own policy (infra/aws/policy.py).
`make lint` runs cfn-lint on the resulting sam.json files.
"""
from __future__ import annotations

import importlib.util
import json
import marshal
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from . import build_template, policy, stream_failures
from .build_template import cfn_name
from .functions import STREAM_PLACEHOLDER, stage_functions, stage_variables
from .models import BUILD_ONLY_SECRET, STAGES, build_only_secrets

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
SOURCE = BUILD / "src"  # what chalice packages: app.py, chalicelib/, .chalice/ and the runtime requirements
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")  # in every Python Lambda runtime
RUNTIME_DEPENDENCIES = (*RUNTIME_PROVIDED, "jmespath", "dateutil", "six", "urllib3")
LEFT_OUT_REQUIREMENTS = ("chalice",)


class PackageError(RuntimeError):
    """The package cannot be built or is not what Lambda can run."""


def offline_environment() -> dict[str, str]:
    """Dummy credentials: nothing here may reach AWS, whatever the caller's environment holds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": "packaging-only", "AWS_SECRET_ACCESS_KEY": "packaging-only",
                "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
                "AWS_EC2_METADATA_DISABLED": "true", **build_only_secrets()})
    return env


def stage_source() -> Path:
    """A copy of the deployed files; keeps Chalice's dependency cache (.chalice/deployments) between runs."""
    (SOURCE / ".chalice").mkdir(parents=True, exist_ok=True)
    shutil.rmtree(SOURCE / "chalicelib", ignore_errors=True)
    shutil.copytree(ROOT / "chalicelib", SOURCE / "chalicelib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy2(ROOT / "app.py", SOURCE / "app.py")
    for path in (ROOT / ".chalice").glob("*.json"):
        shutil.copy2(path, SOURCE / ".chalice" / path.name)
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines
            if line.split("==")[0].split(">")[0].split("<")[0].strip().lower() not in LEFT_OUT_REQUIREMENTS]
    (SOURCE / "requirements.txt").write_text("\n".join(kept) + "\n", encoding="utf-8")
    return SOURCE


def chalice_package(stage: str, merge_template: Path, out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    chalice = Path(sys.executable).with_name("chalice")
    command = [str(chalice), "package", "--stage", stage, "--pkg-format", "cloudformation",
               "--merge-template", str(merge_template), str(out)]
    result = subprocess.run(command, cwd=SOURCE, env=offline_environment(), capture_output=True, text=True)
    if result.returncode != 0:
        raise PackageError(f"chalice package --stage {stage} failed:\n{result.stdout}{result.stderr}")


def strip_runtime_packages(zip_path: Path) -> list[str]:
    """Rewrites the zip without the packages the Lambda runtime provides; returns what was dropped."""
    def provided(name: str) -> bool:
        top = name.split("/")[0]
        return top in RUNTIME_PROVIDED or any(top.startswith(f"{p}-") and top.endswith(".dist-info")
                                              for p in RUNTIME_PROVIDED)

    dropped: set[str] = set()
    stripped = zip_path.with_suffix(".tmp")
    with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(stripped, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if provided(info.filename):
                dropped.add(info.filename.split("/")[0])
            else:
                target.writestr(info, source.read(info.filename))
    stripped.replace(zip_path)
    return sorted(dropped)


def add_bytecode(zip_path: Path) -> int:
    """Adds each module's bytecode where Python looks for it (`pkg/__pycache__/mod.cpython-311.pyc`); returns
    how many. Unchecked hash-based .pyc (PEP 552): the zip never changes once built, and the times a zip keeps
    (to 2 s) would not match the ones a timestamp-based .pyc records. Compiled by this interpreter, whose
    version is the functions' runtime (Chalice packages for the Python it runs on); a file this Python cannot
    compile (a library's example for another version) is left to the runtime, as before."""
    flags = (1).to_bytes(4, "little")  # hash-based, unchecked
    added = 0
    rebuilt = zip_path.with_suffix(".tmp")
    with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as target:
        names = set(source.namelist())
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info, data)
            folder, _, file = info.filename.rpartition("/")
            if not file.endswith(".py"):
                continue
            cached = f"{folder + '/' if folder else ''}__pycache__/{file[:-3]}.{sys.implementation.cache_tag}.pyc"
            if cached in names:
                continue
            try:
                code = compile(data, f"/var/task/{info.filename}", "exec", dont_inherit=True)
            except (SyntaxError, ValueError):
                continue
            target.writestr(cached, importlib.util.MAGIC_NUMBER + flags + importlib.util.source_hash(data)
                            + marshal.dumps(code))
            added += 1
    rebuilt.replace(zip_path)
    return added


def _handlers(template: dict) -> list[str]:
    return sorted(r["Properties"]["Handler"] for r in template["Resources"].values()
                  if r.get("Type") == "AWS::Serverless::Function")


_PROBE = """
import importlib, json, sys
app = importlib.import_module("app")
missing = [h for h in json.loads(sys.argv[1]) if not callable(getattr(app, h.split(".", 1)[1], None))]
print(json.dumps(missing))
"""


def prove_importable(zip_path: Path, handlers: list[str], variables: dict[str, str] | None = None) -> None:
    """Imports the packaged app as Lambda would: the zip first, then only the runtime's own packages, with
    the stage's variables (and placeholder secrets)."""
    with tempfile.TemporaryDirectory() as tmp:
        task, runtime = Path(tmp, "task"), Path(tmp, "runtime")
        runtime.mkdir()
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(task)
        for name in RUNTIME_DEPENDENCIES:
            spec = importlib.util.find_spec(name)
            if spec and spec.origin:
                origin = Path(spec.origin)
                (runtime / name).symlink_to(origin.parent if origin.name == "__init__.py" else origin)
        env = {**(variables or {}), **build_only_secrets(), "PYTHONPATH": f"{task}{os.pathsep}{runtime}",
               "AWS_DEFAULT_REGION": "us-east-1", "PATH": os.environ.get("PATH", "")}
        result = subprocess.run([sys.executable, "-S", "-c", _PROBE, json.dumps(handlers)], cwd=task, env=env,
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise PackageError(f"the packaged app does not import without the build machine's packages:\n"
                               f"{result.stderr[-3000:]}")
        missing = json.loads(result.stdout.strip().splitlines()[-1])
        if missing:
            raise PackageError(f"handlers named in the template are missing from app.py: {', '.join(missing)}")


def check_template(template: dict) -> None:
    untyped = sorted(name for name, resource in template["Resources"].items() if "Type" not in resource)
    if untyped:
        raise PackageError(f"the merge template adds to resources Chalice did not generate: {', '.join(untyped)}")
    text = json.dumps(template)
    if BUILD_ONLY_SECRET in text:
        raise PackageError("a build-only placeholder secret reached the template")
    if STREAM_PLACEHOLDER in text:
        raise PackageError(f"a stream ARN placeholder ({STREAM_PLACEHOLDER}) was not replaced by its table's "
                           "StreamArn: does config.json name a table of ALL_MODELS with a stream?")


def check_triggers(stage: str, template: dict) -> None:
    """Every function app.py registers is in the template, and each one other than the API handler and
    the invoked workers has its trigger (a job's schedule, a stream handler's stream); a stream handler's
    role may send to the stream-failures queue."""
    found = stage_functions(stage)
    resources = template["Resources"]
    missing = [name for name in found.names if cfn_name(name) not in resources]
    idle = [name for name in found.names if name != "api_handler" and name not in found.pure
            and not resources.get(cfn_name(name), {}).get("Properties", {}).get("Events")]
    if missing or idle:
        raise PackageError(f"functions missing from the template: {missing}; without a trigger: {idle}")
    misplaced = stream_failures.misplaced_roles(template, sorted(found.streams))
    if misplaced:
        raise PackageError(f"the stream-failures queue's send permission misses the roles Chalice gave: {misplaced}")


def check_roles(stage: str, template: dict) -> None:
    """Every function runs under a role of its own whose policy is the function's own file
    (.chalice/policy-STAGE-FUNCTION.json): a name config.json missed would give a function another policy."""
    resources = template["Resources"]
    seen: dict[str, str] = {}
    wrong = []
    for name in stage_functions(stage).names:
        role = resources[cfn_name(name)]["Properties"].get("Role", {}).get("Fn::GetAtt", [None])[0]
        documents = [p["PolicyDocument"] for p in resources.get(role, {}).get("Properties", {}).get("Policies", [])]
        if role in seen or documents != [policy.policy(stage, name)]:
            wrong.append(f"{name} (role {role}{', also ' + seen[role] + chr(39) + 's' if role in seen else ''})")
        seen[role] = name
    if wrong:
        raise PackageError(f"functions without their own role and policy: {', '.join(wrong)}")


def package(stage: str) -> dict:
    merge = build_template.write(stage, BUILD / f"merge-{stage}.json")
    out = BUILD / f"package-{stage}"
    chalice_package(stage, merge, out)
    zip_path, template_path = out / "deployment.zip", out / "sam.json"
    dropped = strip_runtime_packages(zip_path)
    add_bytecode(zip_path)
    template = json.loads(template_path.read_text(encoding="utf-8"))
    check_template(template)
    check_triggers(stage, template)
    check_roles(stage, template)
    handlers = _handlers(template)
    prove_importable(zip_path, handlers, stage_variables(stage))
    with zipfile.ZipFile(zip_path) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    return {"stage": stage, "template": str(template_path.relative_to(ROOT)), "zip_bytes": zip_path.stat().st_size,
            "unpacked_bytes": unpacked, "dropped": dropped, "handlers": handlers}


def main(argv: list[str] | None = None) -> int:
    stages = (argv if argv is not None else sys.argv[1:]) or list(STAGES)
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        print(f"unknown stage {', '.join(unknown)}: one of {', '.join(STAGES)}", file=sys.stderr)
        return 2
    if policy.main(["--check"]) != 0:
        return 1
    stage_source()
    try:
        for stage in stages:
            report = package(stage)
            print(f"{report['template']}: zip {report['zip_bytes'] / 1e6:.1f} MB "
                  f"({report['unpacked_bytes'] / 1e6:.1f} MB unpacked), left out {', '.join(report['dropped'])}; "
                  f"functions {', '.join(report['handlers'])}")
    except PackageError as error:
        print(f"make package: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
