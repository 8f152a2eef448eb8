"""HTML reports: the evaluation page (`report/evaluation_report.py`) and the actor x target
stance map (`report/stance_map.py`), self-contained, and rendered in headless Chromium as a
person would see them."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from stancekit import StanceClassifier
from stancekit.aggregation import aggregate, stance_table, write_rows
from stancekit.cli import main
from stancekit.errors import DataError
from stancekit.evaluation import analyze
from stancekit.prediction import Prediction
from stancekit.report import read_stance_rows, write_evaluation_report, write_stance_report

SECTIONS = ("Headline", "Calibration", "Abstention", "confusion matrix", "reliability diagram",
            "risk-coverage curve", "Slices", "per target", "per actor", "per source corpus",
            "per text length", "Most confident mistakes", "Least confident right answers")


@pytest.fixture(scope="module")
def evaluation_page(untrained_model: Path, synthetic_pairs,
                    tmp_path_factory: pytest.TempPathFactory) -> Path:
    def domain_pairs(n: int, seed: int = 0):
        return [dataclasses.replace(p, meta={"domain": ["courts", "trade"][i % 2]})
                for i, p in enumerate(synthetic_pairs(n, seed=seed))]

    d = tmp_path_factory.mktemp("report")
    clf = StanceClassifier.from_pretrained(untrained_model)
    analyses = analyze(clf, {"test": domain_pairs(45, seed=2)}, train_pairs=domain_pairs(60),
                       dev_pairs=domain_pairs(30, seed=1), n_resamples=100)
    return write_evaluation_report(analyses, d / "out", model_meta=clf.meta,
                                   model_path=str(untrained_model))


def images(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]


def test_evaluation_report_has_every_section(evaluation_page: Path) -> None:
    page = evaluation_page.read_text(encoding="utf-8")
    for section in SECTIONS:
        assert section in page, section
    assert "stancekit worse: the interval excludes 0" in page  # an untrained model loses
    assert "tfidf_lr" in page and "majority" in page
    pngs = images(page)
    assert len(pngs) == 3 and all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)
    assert (evaluation_page.parent / "errors_test.csv").is_file()


def test_significant_loss_is_as_loud_as_a_win_and_p_is_bounded(evaluation_page: Path) -> None:
    from stancekit.report.evaluation_report import _verdict

    page = evaluation_page.read_text(encoding="utf-8")
    assert '<div class="worse-box">' in page and "p=0.000" not in page
    assert re.search(r"\], p &lt; 0\.020</span><br><span class=\"worse\">▼ stancekit worse", page)
    m = {"t_f1_macro_diff": 0.1, "t_f1_macro_diff_ci": [0.05, 0.15], "t_f1_macro_diff_p": 0.0,
         "t_diff_resamples": 1000}
    assert _verdict(m, "t") == (
        '<div class="yes-box">+0.100 <span class="ci">[+0.050, +0.150], p &lt; 0.002</span><br>'
        '<span class="yes">▲ stancekit better: the interval excludes 0</span></div>')
    loss = _verdict({**m, "t_f1_macro_diff": -0.1, "t_f1_macro_diff_ci": [-0.15, -0.05]}, "t")
    assert '"worse-box"' in loss and "▼ stancekit worse" in loss
    even = _verdict({**m, "t_f1_macro_diff_ci": [-0.01, 0.2], "t_f1_macro_diff_p": 0.043}, "t")
    assert "p = 0.043" in even and "no clear difference: the interval includes 0" in even
    css = re.search(r"\.worse \{ color: (#[0-9a-f]{6})", page).group(1)
    assert css != re.search(r"\.yes \{ color: (#[0-9a-f]{6})", page).group(1)


def test_report_names_where_analysis_json_is(evaluation_page: Path) -> None:
    page = evaluation_page.read_text(encoding="utf-8")
    written = evaluation_page.parent / "analysis.json"  # no path given: written beside the page
    assert f"all are in <code>{written}</code>" in page
    assert json.loads(written.read_text())["test"]["slices"]


def test_reports_are_self_contained(evaluation_page: Path) -> None:
    page = evaluation_page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "<script" not in page and "@import" not in page and "url(" not in page


@pytest.fixture(scope="session")
def stance_rows(synthetic_pairs):
    """``stance_rows(dated=True)``: article-level rows as `stancekit predict --actors` writes
    them."""

    def make(dated: bool = True) -> list[dict]:
        pairs, preds = [], []
        stances = {("Iran", "the deal"): ["condemn", "condemn", "neutral", "support"],
                   ("France", "the deal"): ["support", "support", "support", "neutral"],
                   ("France", "the strike"): ["neutral", "condemn", "neutral", "neutral"],
                   ("Kenya", "the ruling"): ["support", "condemn", "support", "support"]}
        for (actor, target), labels in stances.items():
            for month, label in enumerate(labels, start=1):
                pair = synthetic_pairs(1)[0]
                meta = {"date": f"2024-{month:02d}-15"} if dated else {}
                pairs.append(dataclasses.replace(pair, id=f"{actor}{month}", actor=actor,
                                                 target=target, doc_id=f"doc{month}", meta=meta))
                probs = {lab: 0.1 for lab in ("support", "neutral", "condemn")}
                probs[label] = 0.8
                preds.append(Prediction(label, probs, pairs[-1].id, abstained=month == 4))
        return [row.to_dict() for row in aggregate(pairs, preds)]

    return make


def test_stance_report_from_article_predictions(tmp_path: Path, capsys, stance_rows) -> None:
    src = tmp_path / "table.jsonl"
    write_rows(stance_rows(), src)
    assert main(["report", "--input", str(src), "--output", str(tmp_path / "map")]) == 0
    assert "report written to" in capsys.readouterr().out
    page = (tmp_path / "map" / "index.html").read_text(encoding="utf-8")
    assert page.count('<table class="heat">') == 2  # the heat map and stance over time
    assert "16 article-level stances, 4 articles, 3 actors, 3 targets" in page
    assert "4 flagged abstained" in page
    assert "Iran" in page and "the strike" in page and "Not drawn" not in page


def test_stance_report_without_dates_draws_the_map_only(tmp_path: Path, stance_rows) -> None:
    src = tmp_path / "table.jsonl"
    write_rows(stance_rows(dated=False), src)
    page = write_stance_report(src, tmp_path / "map").read_text(encoding="utf-8")
    assert page.count('<table class="heat">') == 1
    assert "Not drawn: the rows have fewer than two dated periods." in page


def test_stance_report_from_a_table_file(tmp_path: Path, stance_rows) -> None:
    from types import SimpleNamespace

    rows = [SimpleNamespace(**r) for r in stance_rows()]
    src = write_rows(stance_table(rows, by="month"), tmp_path / "table.csv")
    page = write_stance_report(src, tmp_path / "map").read_text(encoding="utf-8")
    assert page.count('<table class="heat">') == 2 and "a stance table of 16 rows" in page


def test_stance_map_cells_tell_the_truth(stance_rows) -> None:
    """One colour per cell (net stance), counts in it, shares and evidence on hover and in the
    table, a hatched cell for no data (never the pale of a balanced one), names in full."""
    from stancekit.report import stance_html

    rows = stance_rows()
    long_name = "the Independent National Electoral Commission of the Republic"
    rows.append({**rows[0], "actor": long_name, "doc_id": "doc9", "label": "support",
                 "evidence": "The commission backed the deal."})
    page = stance_html(rows)
    heat = page.split('<table class="heat">')[1].split("</table>")[0]
    # Iran on the deal: condemn, condemn, neutral, support -> 1 support, 1 neutral, 2 condemn
    cell = re.search(r'<td style="background:(#[0-9a-f]{6});color:#[0-9a-f]{6}" title="Iran → '
                     r'the deal: ([^"]*)">1·1·2</td>', heat)
    assert cell, heat
    assert cell.group(2).startswith("support 1 (25%), neutral 1 (25%), condemn 2 (50%); "
                                    "net -0.25\narticles: doc1, doc2, doc3, doc4\nevidence (doc")
    # France on the strike: no support, no condemn majority... and Kenya never speaks on it
    balanced = re.search(r'<td style="background:(#[0-9a-f]{6});[^>]*title="France → the '
                         r'strike[^>]*>0·3·1</td>', heat)
    assert balanced and balanced.group(1) != "#ffffff"
    assert '<td class="none" title="Kenya → the strike: no stance found"></td>' in heat
    assert f'<th class="l">{long_name}</th>' in heat and "…" not in heat
    table = page.split("<h2>Table</h2>")[1]
    assert "2 <span class=\"ci\">(50%)</span>" in table  # counts beside shares
    assert "(doc9)" in table and "The commission backed the deal." in table


def test_stance_report_input_errors(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"actor": "Iran", "target": "the deal"}) + "\n")
    expected = (r"bad.jsonl:1 field 'label': expected article-level predictions with the "
                r"fields \['actor', 'target', 'label'\]")
    with pytest.raises(DataError, match=expected):
        read_stance_rows(bad)
    bad.write_text(json.dumps({"actor": "Iran", "target": "the deal", "label": "FAVOR"}) + "\n")
    with pytest.raises(DataError, match=r"field 'label': expected one of \['support', 'neutral', "
                                        r"'condemn'\], found 'FAVOR'"):
        read_stance_rows(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert main(["report", "--input", str(empty), "--output", str(tmp_path / "x")]) == 2
    assert "empty.jsonl: no rows to draw" in capsys.readouterr().err


def find_chromium() -> str | None:
    return next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)


def screenshot(page: Path, png: Path, height: int = 2600) -> None:
    browser = find_chromium()
    if browser is None:
        pytest.skip("headless check needs Chromium: `apt-get install chromium` (Debian) or put "
                    "chromium/google-chrome on PATH")
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--user-data-dir={png.parent / 'chromium-profile'}",
                    f"--window-size=1280,{height}", f"--screenshot={png}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)


def painted_share(png: Path) -> float:
    """Share of pixels that are not the page's white background."""
    from matplotlib.image import imread

    pixels = imread(png)[..., :3]
    return float((pixels.min(axis=2) < 0.9).mean())


def test_evaluation_report_renders_in_chromium(evaluation_page: Path, tmp_path: Path) -> None:
    png = tmp_path / "evaluation.png"
    screenshot(evaluation_page, png)
    assert png.stat().st_size > 50_000
    assert painted_share(png) > 0.05  # tables and plots drawn, not a blank page


def test_stance_report_renders_in_chromium(tmp_path: Path, stance_rows) -> None:
    src = tmp_path / "table.jsonl"
    write_rows(stance_rows(), src)
    png = tmp_path / "map.png"
    screenshot(write_stance_report(src, tmp_path / "map"), png, height=1400)
    assert painted_share(png) > 0.03
    from matplotlib.colors import to_rgb
    from matplotlib.image import imread

    from stancekit.report.stance_map import stance_colour

    pixels = imread(png)[..., :3]
    for net in (1.0, -1.0):  # the cells are painted: full support blue and condemn red show
        colour = np.array(to_rgb(stance_colour(net)[0]))
        assert (np.abs(pixels - colour).max(axis=2) < 0.02).sum() > 200, net
