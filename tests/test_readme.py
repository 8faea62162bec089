"""The README's Python examples run as written (those that need torch are skipped without it)."""

import importlib.util
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index: int) -> None:
    code = BLOCKS[index]
    if "import torch" in code and importlib.util.find_spec("torch") is None:
        pytest.skip("example needs the optional torch extra")
    exec(compile(code, f"README.md[python block {index}]", "exec"), {})
