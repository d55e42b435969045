"""The helpers every benchmark shares: its command line, the docs arguments and the timing."""

import time
from pathlib import Path

import pytest

from benchmarks.common import DATASET, DOCS, add_docs_arguments, argument_parser, command_line, elapsed_ms, p50_p99


def parse(*argv: str):
    parser = argument_parser("benchmarks.bench_x", "a benchmark")
    add_docs_arguments(parser, "X")
    return parser.parse_args(argv)


def test_defaults_are_the_dataset_and_the_benchmarks_page():
    args = parse()
    assert (args.dataset, args.docs) == (DATASET, DOCS)


@pytest.mark.parametrize("flag", ["--no-docs", "--no-write"])
def test_either_spelling_means_print_only(flag):
    assert parse(flag).docs is None


def test_docs_and_print_only_exclude_each_other():
    with pytest.raises(SystemExit):
        parse("--docs", "elsewhere.md", "--no-docs")


def test_another_docs_file():
    assert parse("--docs", "elsewhere.md").docs == Path("elsewhere.md")


def test_the_command_line_is_the_one_to_type_again():
    assert command_line("benchmarks.bench_x", ["--dataset", "my data.csv"]) == (
        "python -m benchmarks.bench_x --dataset 'my data.csv'"
    )
    assert command_line("benchmarks.bench_x", []) == "python -m benchmarks.bench_x"


def test_elapsed_ms_times_one_call_in_milliseconds():
    assert 20 <= elapsed_ms(time.sleep, 0.02) < 1000


def test_p50_p99_interpolates_between_ranks():
    assert p50_p99([float(v) for v in range(1, 101)]) == pytest.approx((50.5, 99.01))
