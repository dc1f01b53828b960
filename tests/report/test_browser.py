"""index.html in a real browser (headless Chromium): the page renders and every image loads."""

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio"]


def _chromium() -> str:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    reason = ("Chromium is not installed (apt-get install chromium chromium-driver); "
              "the report was not checked in a browser")
    print(f"SKIPPED: {reason}")
    pytest.skip(reason)


def _run(args, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    return subprocess.run([args, *FLAGS, f"--user-data-dir={profile}", *extra],
                          capture_output=True, text=True, timeout=120)


def _images(dom: str) -> tuple[int, int]:
    import re

    match = re.search(r'data-images="(\d+)/(\d+)"', dom)
    assert match, "the page's image check did not run"
    return int(match.group(1)), int(match.group(2))


def test_report_renders_in_chromium(built_report, tmp_path):
    chromium = _chromium()
    _, out = built_report
    url = (out / "index.html").resolve().as_uri()
    shot = tmp_path / "screenshot.png"
    result = _run(chromium, tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", url)
    assert shot.is_file(), result.stderr[-2000:]
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1280, 2000)
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels.std() > 20, "the screenshot is blank"
    non_white = (pixels < 240).mean()
    assert 0.02 < non_white < 0.9, non_white
    # the page's own script marks each image after load: naturalWidth > 0
    dom = _run(chromium, tmp_path, "--dump-dom", url).stdout
    loaded, total = _images(dom)
    html = (out / "index.html").read_text()
    assert total == html.count("<img ") > 0
    assert loaded == total, f"only {loaded} of {total} images loaded"
    assert 'data-loaded="no"' not in dom
    keep = os.environ.get("ARCHSEARCH_REPORT_SCREENSHOT")
    if keep:  # for a person to look at
        shutil.copy(shot, keep)


def test_the_image_check_notices_a_missing_figure(built_report, tmp_path):
    chromium = _chromium()
    _, out = built_report
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "figures" / "progress.png").unlink()
    dom = _run(chromium, tmp_path, "--dump-dom", (copy / "index.html").as_uri()).stdout
    loaded, total = _images(dom)
    assert loaded == total - 1
    assert dom.count('data-loaded="no"') == 1
