"""Checks shared by the tests of the studies outside the reduction (test_beyond_init,
test_beyond_nonsymmetric, test_beyond_adam): bad input on the command line and in the API,
determinism, figure files."""

import json

import pytest

from verify.cli import main


def exits_2_with_one_line(study: str, argv, words: str, capsys) -> None:
    """`dmf-verify explore STUDY ARGV` exits 2 with one line on stderr containing ``words``."""
    assert main(["explore", study, *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "Traceback" not in err


def raises_value_error(run, params: dict, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        run(params)


def same_json(a: dict, b: dict) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def writes_png_and_pdf(figures, result: dict, out_dir) -> None:
    """``figures`` writes a PNG and a PDF and leaves ``result`` as it was."""
    before = json.dumps(result, sort_keys=True)
    paths = figures(result, str(out_dir))
    assert [p.rsplit(".", 1)[1] for p in paths] == ["png", "pdf"]
    assert all((out_dir / p.rsplit("/", 1)[1]).stat().st_size > 1000 for p in paths)
    assert json.dumps(result, sort_keys=True) == before


def result_fixtures(study, small_params: dict):
    """Module-scoped fixtures ``default`` (the study's default run, seed 0) and ``small``
    (a run with ``small_params``): ``default, small = result_fixtures(study, SMALL)``."""

    @pytest.fixture(scope="module", name="default")
    def default_fixture():
        return study.run({"seed": 0})

    @pytest.fixture(scope="module", name="small")
    def small_fixture():
        return study.run(dict(small_params))

    return default_fixture, small_fixture
