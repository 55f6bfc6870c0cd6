"""The protocol engine and its pieces: jobs, resume, tables, memory, files."""

import json
from pathlib import Path

import numpy as np
import pytest

from alad.experiments import Job, ResultStore, atomic_write, render_table, run_jobs
from alad.experiments.engine import format_records, get_protocol, record_key
from alad.experiments.machine import peak_rss_mb, reset_peak_rss

ROOT = Path(__file__).resolve().parents[2]


def _jobs(calls):
    def job(name):
        key = record_key("test", name)

        def run(done):
            if key in done:
                return
            calls.append(name)
            yield {"key": key, "name": name}

        return Job(name, run)

    return [job("a"), job("b")]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_jobs_run_once_and_resume(tmp_path, n_jobs):
    out = tmp_path / "r.jsonl"
    calls = []
    store = run_jobs(_jobs(calls), out, protocol="p", progress=False, n_jobs=n_jobs)
    assert sorted(r["name"] for r in store) == ["a", "b"]
    assert {r["protocol"] for r in store} == {"p"}
    assert all("machine" in r and "time" in r for r in store)
    before = out.read_text()
    calls.clear()
    run_jobs(_jobs(calls), out, protocol="p", progress=False, n_jobs=n_jobs)
    assert calls == [] and out.read_text() == before


def test_a_run_asked_for_twice_is_made_once(tmp_path):
    # a seed given twice makes the same job twice
    calls = []
    jobs = _jobs(calls) + _jobs(calls)
    store = run_jobs(jobs, tmp_path / "r.jsonl", protocol="p", progress=False)
    assert calls == ["a", "b"] and len(store) == 2
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 2


def test_reading_a_store_leaves_a_cut_line_until_the_next_record(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"key": "a"}\n{"key": "b", "x"')  # an interrupted run's
    before = path.read_bytes()
    store = ResultStore(path)  # alad report reads, and must not write
    assert store.done == {"a"} and path.read_bytes() == before
    store.add({"key": "c"})
    assert ResultStore(path).done == {"a", "c"}
    assert path.read_text().endswith('"x"\n{"key": "c"}\n')


def test_memory_is_released_after_every_job(tmp_path, monkeypatch):
    from alad.experiments import engine

    released = []
    monkeypatch.setattr(engine, "release_memory", lambda: released.append(1))
    run_jobs(_jobs([]), tmp_path / "r.jsonl", protocol="p", progress=False)
    assert len(released) == 2


def test_release_memory_runs_where_there_is_no_glibc(monkeypatch):
    from alad.experiments import engine

    monkeypatch.setattr(engine, "_malloc_trim", lambda: None)
    engine.release_memory()  # the collection alone, no error


def test_unknown_protocol_is_refused():
    with pytest.raises(ValueError, match="protocol must be one of"):
        get_protocol("nope")


def test_render_table_rst_and_markdown():
    rst = render_table(["a", "b"], [["1", ""]], "rst", title="T")
    assert rst.splitlines() == [
        ".. list-table:: T",
        "   :header-rows: 1",
        "",
        "   * - a",
        "     - b",
        "   * - 1",
        "     -",
    ]
    md = render_table(["a", "b"], [["1", "2"]], "markdown", title="T")
    assert md.splitlines() == ["### T", "", "| a | b |", "|---|---|", "| 1 | 2 |"]
    with pytest.raises(ValueError, match="fmt must be"):
        render_table(["a"], [], "html")


def test_atomic_write_keeps_the_old_file_when_interrupted(tmp_path):
    path = tmp_path / "sub" / "f.json"
    atomic_write(path, lambda f: f.write("old"))

    def crash(f):
        f.write("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, crash)
    assert path.read_text() == "old"


def test_atomic_writes_of_the_same_file_at_once_both_finish(tmp_path):
    """Another job writing the same file meanwhile must not take this one's
    temporary file (truncated, then renamed away from under it)."""
    path = tmp_path / "labels.npy"

    def write(f):
        f.write("first")
        atomic_write(path, lambda g: g.write("second"))  # the other job

    atomic_write(path, write)
    assert path.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["labels.npy"]


def test_peak_rss_grows_with_an_allocation_and_resets():
    reset_peak_rss()
    before = peak_rss_mb()
    block = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
    assert peak_rss_mb() - before > 32
    del block


def test_records_of_two_protocols_report_each_its_own_way():
    naf = {
        "key": "n",
        "protocol": "nafal",
        "table": "1",
        "dataset": "cardio",
        "seed": 0,
        "task": "-",
        "machine": "m",
        "cpu_seconds": 1.0,
        "n_augmented": 0,
        "NAF-AD": 0.5,
    }
    han = {
        "key": "h",
        "dataset": "d",
        "task": "d",
        "method": "iforest",
        "setting": "w/o unlabeled",
        "seed": 0,
        "metrics": {"evaluation": None},
    }
    text = format_records([han, naf])
    assert "### d" in text and "Table 1: F1 (%) on tabular data" in text


@pytest.mark.parametrize(
    "results, table",
    [
        ("naf_tables.json", "naf_tables.inc"),
        ("naf_tables_level999.json", "naf_level999.inc"),
    ],
)
def test_committed_naf_tables_regenerate_byte_for_byte(results, table):
    from alad.experiments import read_records

    records = read_records([ROOT / "benchmarks" / "results" / results])
    text = get_protocol("nafal").format_report(records, fmt="rst") + "\n"
    assert text == (ROOT / "docs" / "results" / table).read_text()


def test_store_lines_are_json(tmp_path):
    store = ResultStore(tmp_path / "s.jsonl")
    store.add({"key": "k", "x": np.float64(0.5)})
    assert json.loads((tmp_path / "s.jsonl").read_text()) == {"key": "k", "x": 0.5}


def test_progress_counts_runs_and_says_what_is_skipped(tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    run_jobs(_jobs([]), out, protocol="p", progress=False)
    run_jobs(_jobs([]), out, protocol="p", progress=True)
    err = capsys.readouterr().err
    assert f"2 runs already in {out}: not run again" in err
    assert "2/2" in err


def test_what_a_job_prints_is_written_above_the_bar(tmp_path, capsys):
    """A job's line (a missing score file, an epoch) comes whole, on a line of
    its own, never appended to the bar's text; output returns as it was."""
    import sys

    def run(done):
        print("a job says this", file=sys.stderr)
        print("and this on stdout")
        yield {"key": "k", "name": "a"}

    before = sys.stdout, sys.stderr
    run_jobs([Job("a", run)], tmp_path / "r.jsonl", protocol="p", progress=True)
    assert (sys.stdout, sys.stderr) == before
    captured = capsys.readouterr()
    (line,) = [x for x in captured.err.splitlines() if "a job says this" in x]
    assert line.split("\r")[-1] == "a job says this"
    assert "and this on stdout" in captured.out.splitlines()


def test_a_gz_store_is_compressed_resumable_and_reproducible(tmp_path):
    import gzip

    path = tmp_path / "runs" / "r.jsonl.gz"
    store = ResultStore(path)
    store.add({"key": "a", "x": np.float64(0.5)})
    store.add({"key": "b", "x": 2})
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["a", "b"]
    again = ResultStore(path)
    assert again.done == {"a", "b"} and again.records["a"]["x"] == 0.5
    again.add({"key": "c"})
    assert ResultStore(path).done == {"a", "b", "c"}
    # the same records give the same bytes (no time stamp in the header)
    other = ResultStore(tmp_path / "s.jsonl.gz")
    for record in ResultStore(path):
        other.add(record)
    assert (tmp_path / "s.jsonl.gz").read_bytes() == path.read_bytes()
    assert not list(path.parent.glob("*.tmp"))


def test_read_records_reads_a_gz_store(tmp_path):
    from alad.experiments import read_records

    ResultStore(tmp_path / "r.jsonl.gz").add({"key": "a"})
    ResultStore(tmp_path / "s.jsonl").add({"key": "b"})
    paths = [tmp_path / "r.jsonl.gz", tmp_path / "s.jsonl"]
    assert {r["key"] for r in read_records(paths)} == {"a", "b"}


def test_the_work_folder_of_a_gz_results_file_drops_both_suffixes():
    from alad.experiments.store import beside

    assert beside("r/labels.jsonl.gz", ".work") == beside("r/labels.jsonl", ".work")
    assert str(beside("r/labels.jsonl.gz", ".work")) == "r/labels.work"


def test_the_cpu_is_named_with_its_family_and_model(tmp_path):
    """A virtual machine shows "AMD EPYC" for a Zen 3 and a Zen 4 alike,
    whose float results differ: the records name the generation."""
    from alad.experiments.machine import cpu_model

    info = tmp_path / "cpuinfo"
    info.write_text(
        "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n"
        "model\t\t: 17\nmodel name\t: AMD EPYC\n\nprocessor\t: 1\nmodel\t\t: 99\n"
    )
    assert cpu_model(info) == "AMD EPYC (family 25 model 17)"
    info.write_text("processor\t: 0\nmodel name\t: Some CPU\n")
    assert cpu_model(info) == "Some CPU"
    assert cpu_model(tmp_path / "absent")  # what platform says
