"""deploy/Dockerfile and .dockerignore, read statically (no Docker engine here): a multi-stage build on
python:3.11-slim, the same torch pin as `make install`, weights unpacked at build time, a non-root user, the
``luister`` entrypoint, a health check on the worker's /health, and a build context that holds what it copies."""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions():
        if keyword == "FROM":
            found.append([])
        if found:
            found[-1].append((keyword, rest))
    return found


def arg_default(name: str) -> str:
    for keyword, rest in instructions():
        if keyword == "ARG" and rest.startswith(f"{name}="):
            return rest.split("=", 1)[1]
    raise AssertionError(f"no ARG {name} with a default")


def test_multi_stage_on_python_slim() -> None:
    assert arg_default("BASE_IMAGE") == "python:3.11-slim"
    built = stages()
    assert len(built) >= 2
    assert all(stage[0][1].startswith("${BASE_IMAGE}") for stage in built)
    final = built[-1]
    copies = [rest for keyword, rest in final if keyword == "COPY"]
    assert copies and all(rest.startswith("--from=") for rest in copies), "the runtime stage takes only built output"


def test_torch_is_pinned_like_make_install_and_the_index_picks_the_variant() -> None:
    makefile = (ROOT / "Makefile").read_text()
    pinned = re.search(r"^TORCH_SPEC \?= (\S+)", makefile, flags=re.MULTILINE)
    assert pinned is not None
    assert arg_default("TORCH_SPEC") == pinned.group(1)
    assert arg_default("TORCH_INDEX_URL") == "https://download.pytorch.org/whl/cpu"
    assert arg_default("VARIANT") == "cpu"
    runs = " ".join(rest for keyword, rest in instructions() if keyword == "RUN")
    assert '--index-url "${TORCH_INDEX_URL}"' in runs and '"${TORCH_SPEC}"' in runs


def test_the_model_is_unpacked_at_build_time_into_the_image() -> None:
    build, final = stages()[0], stages()[-1]
    assert any(keyword == "RUN" and "luister models unpack" in rest for keyword, rest in build)
    cache = [rest for keyword, rest in build if keyword == "ENV" and "LUISTER_MODEL_CACHE=" in rest]
    assert cache and "LUISTER_MODEL_CACHE=/opt/luister/models" in cache[0]
    assert ("COPY", "--from=build --chown=10001:10001 /opt/luister /opt/luister") in final
    env = " ".join(rest for keyword, rest in final if keyword == "ENV")
    assert "LUISTER_MODEL_CACHE=/opt/luister/models" in env
    assert "HF_HUB_OFFLINE=1" in env


def test_runs_as_a_non_root_user_with_the_luister_entrypoint_and_a_health_check() -> None:
    final = dict(stages()[-1])
    user = final["USER"].split(":")[0]
    assert user not in {"0", "root"}
    assert json.loads(final["ENTRYPOINT"]) == ["luister"]
    assert json.loads(final["CMD"]) == ["worker"]
    health = final["HEALTHCHECK"]
    assert "http://127.0.0.1:6066/health" in health
    env = " ".join(rest for keyword, rest in stages()[-1] if keyword == "ENV")
    assert "LUISTER_WORKER__WEB_HOST=0.0.0.0" in env and "LUISTER_WORKER__WEB_PORT=6066" in env


def dockerignored(path: str) -> bool:
    """Docker's rule: the last matching pattern wins; ``!`` re-includes (directory patterns cover their content)."""
    ignored = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/").removeprefix("**/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, pattern) for p in prefixes) or any(fnmatch.fnmatch(part, pattern) for part in parts):
            ignored = not negate
    return ignored


def test_every_copied_path_is_in_the_build_context() -> None:
    sources = []
    for keyword, rest in stages()[0]:
        if keyword == "COPY" and not rest.startswith("--from"):
            sources.extend(rest.split()[:-1])
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not dockerignored(source), f".dockerignore leaves out {source}"
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    wanted = {name.rstrip("*") for name in packages["include"]}
    assert wanted <= set(sources), "pip install . needs every package in the image"


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        (".venv/bin/python", True),
        ("tests/conftest.py", True),
        (".git/HEAD", True),
        ("pipeline/cli.py", False),
        ("pipeline/__pycache__/cli.cpython-311.pyc", True),
        ("models/resources/topics.yaml", False),
        ("pyproject.toml", False),
    ],
)
def test_dockerignore_keeps_the_context_small(path: str, ignored: bool) -> None:
    assert dockerignored(path) is ignored
