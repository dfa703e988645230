"""Fuzz test of every public entry point over shapes, dtypes, scales and layouts.

Each case (see ``tests/_fuzz_cases.py``) calls one public function, or fits one
registered estimator, with one adversarial input: wrong or short/long shapes,
list input, float16/complex/int/bool dtypes, NaN/inf, empty and all-zero data,
read-only arrays, unsorted CSC, extreme scales (1e-200..1e200 in float64,
1e-30..1e30 in float32), negative/NaN regularisation. The cases run in
subprocesses, many per process; a crash or hang ends its batch and the case is
rerun alone to pinpoint it. Every case must end in a finite result or a clear
``ValueError``/``TypeError`` (never a signal, a hang, an IndexError /
AttributeError / ZeroDivisionError / LinAlgError from deep inside), must raise
on invalid input, and must leave the caller's arrays untouched.

The default run covers every function case and the estimators' core
mutations; ``-m slow`` adds the rest of the estimator sweep. Reproduce one
case with ``python tests/_fuzz_cases.py --report <case id>``.
"""
import pytest

from _fuzz_cases import all_cases, judge, run_cases

CASES = all_cases()
DEFAULT = [i for i, case in CASES.items() if case.default]
EXTENDED = [i for i, case in CASES.items() if not case.default]


@pytest.fixture(scope="module")
def fuzz_results(request):
    """Run, in subprocess batches, every fuzz case selected in this session."""
    wanted = [item.callspec.params["case_id"] for item in request.session.items
              if getattr(item, "module", None) is request.module and hasattr(item, "callspec")
              and "case_id" in item.callspec.params]
    return run_cases(wanted)


def _check(case_id, fuzz_results):
    case = CASES[case_id]
    reason = judge(case, fuzz_results.get(case_id))
    assert reason is None, (
        f"[{case.owner}] {case_id} (expects {case.expect}): {reason}\n"
        f"reproduce: python tests/_fuzz_cases.py --report '{case_id}'")


@pytest.mark.parametrize("case_id", DEFAULT)
def test_fuzz(case_id, fuzz_results):
    _check(case_id, fuzz_results)


@pytest.mark.slow
@pytest.mark.parametrize("case_id", EXTENDED)
def test_fuzz_extended(case_id, fuzz_results):
    _check(case_id, fuzz_results)


def test_every_public_name_is_fuzzed_or_exempt_with_a_reason():
    import importlib

    from _fuzz_cases import FUZZED_SUBPACKAGES, NOT_FUZZED, fuzzed_public_names

    fuzzed = fuzzed_public_names()
    public = {f"{sub}.{name}" for sub in FUZZED_SUBPACKAGES
              for name in importlib.import_module(f"sparseopt.{sub}").__all__}
    missing = sorted(public - fuzzed - set(NOT_FUZZED))
    assert not missing, f"public names with no fuzz case and no stated reason: {missing}"
    assert all(len(reason.split()) >= 3 for reason in NOT_FUZZED.values())


def test_fuzz_harness_catches_a_crash_a_hang_and_a_mutation():
    # the harness itself: a case that kills its process, one that sleeps past the
    # per-case timeout and one that edits its input are reported as such, and the
    # batch goes on after them
    from _fuzz_cases import PROBES, run_probe_cases

    results = run_probe_cases()
    assert results["probe:segfault"]["status"].startswith("crash")
    assert results["probe:hang"]["status"] == "hang"
    assert results["probe:mutate"]["mutated"] is True
    assert results["probe:ok"]["status"] == "ok"
    assert set(results) == set(PROBES)
