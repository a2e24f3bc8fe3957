"""`make package`'s own checks, on small zips and templates (the real package is built by `make package`
in `make lint`, where cfn-lint then reads it)."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest

from infra.aws import package
from infra.aws.models import BUILD_ONLY_SECRET


def make_zip(path, files: dict[str, str]):
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def test_the_runtime_s_own_packages_leave_the_zip_and_ours_stay(tmp_path):
    zip_path = make_zip(tmp_path / "deployment.zip", {
        "botocore/__init__.py": "", "botocore-1.44.5.dist-info/METADATA": "", "boto3/__init__.py": "",
        "s3transfer/__init__.py": "", "pynamodb/__init__.py": "", "app.py": "", "chalicelib/__init__.py": "",
        "botocore_extras/x.py": ""})
    assert package.strip_runtime_packages(zip_path) == ["boto3", "botocore", "botocore-1.44.5.dist-info",
                                                        "s3transfer"]
    assert sorted(zipfile.ZipFile(zip_path).namelist()) == ["app.py", "botocore_extras/x.py",
                                                            "chalicelib/__init__.py", "pynamodb/__init__.py"]


def test_the_zip_carries_the_bytecode_lambda_imports_instead_of_compiling_each_cold_start(tmp_path):
    zip_path = make_zip(tmp_path / "deployment.zip", {"app.py": "WHICH = 'compiled'\n",
                                                      "chalicelib/__init__.py": "", "chalicelib/x.py": "X = 1\n",
                                                      "lib/old.py": "print 'python 2'\n", "lib/data.json": "{}"})
    assert package.add_bytecode(zip_path) == 3  # not old.py, which this Python cannot compile
    names = set(zipfile.ZipFile(zip_path).namelist())
    tag = sys.implementation.cache_tag
    assert {f"__pycache__/app.{tag}.pyc", f"chalicelib/__pycache__/x.{tag}.pyc",
            f"chalicelib/__pycache__/__init__.{tag}.pyc"} < names and "lib/data.json" in names
    task = tmp_path / "task"
    zipfile.ZipFile(zip_path).extractall(task)
    (task / "app.py").write_text("WHICH = 'source'\n", encoding="utf-8")  # the bytecode, unchecked, is what runs
    result = subprocess.run([sys.executable, "-c", "import app, chalicelib.x; print(app.WHICH, chalicelib.x.X)"],
                            cwd=task, env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["compiled", "1"], result.stderr


def test_the_packaged_app_must_import_with_only_the_zip_and_the_runtime(tmp_path):
    good = make_zip(tmp_path / "good.zip", {"app.py": "import botocore\napp = object\ndef job_x(e, c): pass\n"})
    package.prove_importable(good, ["app.app", "app.job_x"])
    missing_module = make_zip(tmp_path / "bad.zip", {"app.py": "import pytest\napp = object\n"})
    with pytest.raises(package.PackageError, match="does not import"):
        package.prove_importable(missing_module, ["app.app"])  # pytest is on this machine, not in the zip
    with pytest.raises(package.PackageError, match="job_y"):
        package.prove_importable(good, ["app.app", "app.job_y"])


def test_a_merge_that_misses_a_chalice_resource_or_leaks_a_placeholder_fails():
    package.check_template({"Resources": {"A": {"Type": "AWS::DynamoDB::Table"}}})
    with pytest.raises(package.PackageError, match="AccrueTrees"):
        package.check_template({"Resources": {"AccrueTrees": {"Properties": {"Timeout": 900}}}})
    with pytest.raises(package.PackageError, match="placeholder"):
        package.check_template({"Resources": {"F": {"Type": "X", "Properties": {"V": BUILD_ONLY_SECRET}}}})


def test_packaging_never_reaches_aws_with_the_caller_s_credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALKEY")
    monkeypatch.setenv("AWS_PROFILE", "prod-admin")
    env = package.offline_environment()
    assert env["AWS_ACCESS_KEY_ID"] == "packaging-only" and "AWS_PROFILE" not in env
    assert env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert all(env[name] for name in ("JWT_SECRET", "DATA_KEY", "WECHAT_SECRET", "BANK_WEBHOOK_SECRET"))


def test_the_zip_gets_the_runtime_requirements_without_chalice_s_command_line(tmp_path, monkeypatch):
    monkeypatch.setattr(package, "SOURCE", tmp_path / "src")
    source = package.stage_source()
    requirements = (source / "requirements.txt").read_text().splitlines()
    assert requirements and not [r for r in requirements if r.lower().startswith("chalice")]
    assert (source / "app.py").exists() and (source / "chalicelib" / "settings.py").exists()
    assert json.loads((source / ".chalice" / "config.json").read_text())["autogen_policy"] is False


def test_every_registered_function_is_packaged_with_its_trigger(monkeypatch):
    from infra.aws.functions import StageFunctions

    found = StageFunctions(names=("api_handler", "accrue-trees", "jobs_worker"), pure=("jobs_worker",),
                           streams={}, stream_variables={})
    monkeypatch.setattr(package, "stage_functions", lambda stage: found)
    schedule = {"Events": {"AccrueTreesEvent": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 day)"}}}}
    template = {"Resources": {"APIHandler": {"Properties": {}}, "JobsWorker": {"Properties": {}},
                              "AccrueTrees": {"Properties": schedule}}}
    package.check_triggers("dev", template)
    del template["Resources"]["AccrueTrees"]["Properties"]["Events"]
    with pytest.raises(package.PackageError, match="without a trigger: \\['accrue-trees'\\]"):
        package.check_triggers("dev", template)
    del template["Resources"]["JobsWorker"]
    with pytest.raises(package.PackageError, match="missing from the template: \\['jobs_worker'\\]"):
        package.check_triggers("dev", template)


def test_packaging_fails_when_a_function_does_not_get_its_own_role_and_policy(monkeypatch):
    from infra.aws.functions import StageFunctions

    found = StageFunctions(names=("api_handler", "accrue-trees"), pure=(), streams={}, stream_variables={})
    monkeypatch.setattr(package, "stage_functions", lambda stage: found)
    monkeypatch.setattr(package.policy, "policy", lambda stage, name: {"Statement": [{"Sid": name}]})

    def function(role):
        return {"Properties": {"Role": {"Fn::GetAtt": [role, "Arn"]}}}

    def role(name):
        return {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyDocument": {"Statement": [
            {"Sid": name}]}}]}}

    template = {"Resources": {"APIHandler": function("ApiHandlerRole"), "AccrueTrees": function("AccrueTreesRole"),
                              "ApiHandlerRole": role("api_handler"), "AccrueTreesRole": role("accrue-trees")}}
    package.check_roles("dev", template)
    template["Resources"]["AccrueTreesRole"] = role("api_handler")  # the API's policy on a job
    with pytest.raises(package.PackageError, match="accrue-trees"):
        package.check_roles("dev", template)
    template["Resources"]["AccrueTrees"] = function("ApiHandlerRole")  # one role for both
    with pytest.raises(package.PackageError, match="also api_handler's"):
        package.check_roles("dev", template)
