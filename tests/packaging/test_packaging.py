"""`infra/package.py` builds the layer, the function zips and the packaged template without Docker.

The script runs once per session into a temporary folder; it reuses the dependency cache under
build/package-cache/ when present, so only a cold checkout downloads the wheels (once).
"""

from __future__ import annotations

import ast
import copy
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "infra" / "package.py"
CORE_PACKAGE = ROOT / "layers" / "couponflow" / "couponflow"
ELF_MACHINE_AARCH64 = 0xB7


class _ShortTagLoader(yaml.SafeLoader):
    """Enough of CloudFormation's short tags to read template.yaml, independent of the script."""


def _long_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix in {"Ref", "Condition"}:
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_ShortTagLoader.add_multi_constructor("!", _long_form)


def _run_package(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def source_template() -> dict[str, Any]:
    return yaml.load((ROOT / "template.yaml").read_text(encoding="utf-8"), Loader=_ShortTagLoader)


@pytest.fixture(scope="module")
def functions(source_template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {
        logical_id: resource
        for logical_id, resource in source_template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert found
    return found


@pytest.fixture(scope="module")
def package_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package")
    result = _run_package(out)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="module")
def layer_names(package_dir: Path) -> list[str]:
    with zipfile.ZipFile(package_dir / "layer.zip") as layer:
        return layer.namelist()


def test_layer_holds_every_core_module_under_python(layer_names: list[str]) -> None:
    expected = {
        f"python/couponflow/{path.relative_to(CORE_PACKAGE).as_posix()}"
        for path in CORE_PACKAGE.rglob("*.py")
        if "__pycache__" not in path.parts
    }

    assert "python/couponflow/__init__.py" in layer_names
    assert expected <= set(layer_names), sorted(expected - set(layer_names))


def test_layer_holds_pydantic_core_compiled_for_aarch64_python312(
    package_dir: Path, layer_names: list[str]
) -> None:
    compiled = [
        name
        for name in layer_names
        if name.startswith("python/pydantic_core/_pydantic_core.") and name.endswith(".so")
    ]

    assert len(compiled) == 1, compiled
    assert "aarch64" in compiled[0] and "cpython-312" in compiled[0]
    with zipfile.ZipFile(package_dir / "layer.zip") as layer, layer.open(compiled[0]) as binary:
        header = binary.read(20)
    assert header[:4] == b"\x7fELF"
    assert int.from_bytes(header[18:20], "little") == ELF_MACHINE_AARCH64


def test_layer_holds_powertools_with_its_tracer_and_pydantic(layer_names: list[str]) -> None:
    assert "python/aws_lambda_powertools/__init__.py" in layer_names
    assert "python/pydantic/__init__.py" in layer_names
    # Tracer() at import needs the X-Ray SDK when tracing is on, as deployed (Tracing: Active)
    assert "python/aws_xray_sdk/__init__.py" in layer_names
    assert any(
        name.startswith("python/aws_lambda_powertools-") and name.endswith("/METADATA")
        for name in layer_names
    )


PYTHON_312_MAGIC = (3531).to_bytes(2, "little") + b"\r\n"  # importlib.util.MAGIC_NUMBER of 3.12
UNCHECKED_HASH = (1).to_bytes(4, "little")  # PEP 552 flags: hash-based, source not checked


def test_layer_carries_bytecode_compiled_for_its_runtime_for_every_module(package_dir: Path) -> None:
    """Lambda's /opt is read-only: without bytecode in the layer, every cold start compiles it."""
    with zipfile.ZipFile(package_dir / "layer.zip") as layer:
        names = set(layer.namelist())
        sources = [n for n in names if n.endswith(".py")]
        expected = {
            f"{folder}/__pycache__/{module[:-3]}.cpython-312.pyc"
            for folder, module in (n.rsplit("/", 1) for n in sources)
        }
        compiled = {n for n in names if n.endswith(".pyc")}
        headers = {layer.read(n)[:8] for n in compiled}

    assert sources and expected == compiled
    assert headers == {PYTHON_312_MAGIC + UNCHECKED_HASH}


def test_layer_ships_no_record_files_requirements_or_stray_bytecode(layer_names: list[str]) -> None:
    noise = [
        name
        for name in layer_names
        if (name.endswith(".pyc") and ".cpython-312." not in name)
        or name.endswith((".pyo", ".dist-info/RECORD"))
        or name.startswith(("python/bin/", "python/tests/"))
        or name == "python/requirements.txt"
    ]

    assert not noise, noise[:10]


def test_every_function_zip_has_its_handler_defined_at_the_root(
    package_dir: Path, functions: dict[str, dict[str, Any]]
) -> None:
    for function_id, function in functions.items():
        module, _, handler = function["Properties"]["Handler"].rpartition(".")
        with zipfile.ZipFile(package_dir / f"{function_id}.zip") as archive:
            source = archive.read(module.replace(".", "/") + ".py")
            names = archive.namelist()
        defined = {
            node.name
            for node in ast.parse(source).body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        assert handler in defined, f"{function_id}: {module}.py defines no {handler}"
        assert not [n for n in names if "__pycache__/" in n or n.endswith(".pyc")], function_id


def test_packaged_template_points_at_the_zips_and_is_otherwise_unchanged(
    package_dir: Path, source_template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    packaged = yaml.safe_load((package_dir / "template.packaged.yaml").read_text(encoding="utf-8"))
    expected = copy.deepcopy(source_template)
    for function_id in functions:
        expected["Resources"][function_id]["Properties"]["CodeUri"] = f"{function_id}.zip"
    for resource in expected["Resources"].values():
        if resource["Type"] == "AWS::Serverless::LayerVersion":
            resource["Properties"]["ContentUri"] = "layer.zip"
            resource.pop("Metadata", None)

    assert packaged == expected
    for resource in packaged["Resources"].values():
        for key in ("CodeUri", "ContentUri"):
            if key in resource.get("Properties", {}):
                assert (package_dir / resource["Properties"][key]).is_file()


def test_a_second_run_reuses_the_cached_dependencies(tmp_path: Path) -> None:
    result = _run_package(tmp_path)

    assert result.returncode == 0, result.stderr
    assert "dependencies: cached in" in result.stdout
    assert "pip install" not in result.stdout  # no resolve, no download: the cache is the install


def test_pip_failure_exits_non_zero_with_a_clear_message(tmp_path: Path) -> None:
    # Given a layer whose requirements pip cannot parse (fails before any download)
    layer = tmp_path / "layer"
    (layer / "core").mkdir(parents=True)
    (layer / "core" / "__init__.py").write_text("")
    (layer / "requirements.txt").write_text("pydantic >>>= not a version\n")
    template = tmp_path / "template.yaml"
    template.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Globals: {Function: {Runtime: python3.12, Architectures: [arm64]}}\n"
        "Resources:\n"
        "  CoreLayer:\n"
        "    Type: AWS::Serverless::LayerVersion\n"
        "    Properties: {ContentUri: layer/, CompatibleRuntimes: [python3.12]}\n"
    )

    # When the script packages it
    result = _run_package(
        tmp_path / "out", "--template", str(template), "--cache-dir", str(tmp_path / "cache")
    )

    # Then it stops with status 1, says pip failed, and leaves no half-filled cache
    assert result.returncode == 1
    assert "pip could not install" in result.stderr
    assert not list((tmp_path / "cache").glob("deps-*"))
