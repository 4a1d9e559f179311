"""Check that a report's HTML renders in headless Chromium with every image decoded, and screenshot it.

    python bench/check_report_html.py outputs/<run_id>/report/report.html --screenshot report.png

How: a copy of the page gets a tiny inline script that, once the page has loaded, writes each <img>'s
naturalWidth x naturalHeight (0 x 0 for an image the browser could not decode or fetch) and the page
height into a <pre> element; `chromium --headless --dump-dom` prints the resulting DOM, which is parsed
here. The screenshot is taken of the original page (no script), with the window as tall as the page.
The report itself carries no script; the copy is written to a temporary folder and removed.

Prints a JSON verdict; exit status 0 when there is at least one image (or `--expect-images` of them) and
every image has a non-zero size, 1 when not, 2 when Chromium is missing or fails.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--virtual-time-budget=10000",  # let the load event and the probe run before the DOM is dumped
]
PROBE_ID = "radiodiff-image-check"
PROBE = f"""<script>
window.addEventListener("load", () => {{
  const images = Array.from(document.images).map(i => ({{alt: i.alt, width: i.naturalWidth,
    height: i.naturalHeight, complete: i.complete}}));
  const out = document.createElement("pre");
  out.id = "{PROBE_ID}";
  out.textContent = JSON.stringify({{images, height: document.documentElement.scrollHeight}});
  document.body.appendChild(out);
}});
</script>"""
WIDTH = 1400
MAX_HEIGHT = 16000
TIMEOUT_S = 120


def probe(page: Path, chromium: str) -> dict:
    """{"images": [{alt, width, height, complete}], "height": px} as measured by Chromium after load."""
    with tempfile.TemporaryDirectory(prefix="radiodiff-html-check-") as folder:
        copy = Path(folder) / "probe.html"
        text = page.read_text(encoding="utf-8")
        copy.write_text(text.replace("</body>", PROBE + "\n</body>", 1), encoding="utf-8")
        width = f"--window-size={WIDTH},1000"  # the layout (and so the page height) of the screenshot
        dom = _chromium(chromium, Path(folder) / "profile", [width, "--dump-dom", copy.resolve().as_uri()])
    found = re.search(rf'<pre id="{PROBE_ID}">(.*?)</pre>', dom, re.DOTALL)
    if found is None:
        raise RuntimeError("the probe did not run: Chromium's DOM has no result element")
    return json.loads(html.unescape(found.group(1)))


def screenshot(page: Path, out: Path, height: int, chromium: str) -> Path:
    """A PNG of the whole page (a window `WIDTH` wide and as tall as the page, at most `MAX_HEIGHT`)."""
    size = f"--window-size={WIDTH},{max(600, min(height, MAX_HEIGHT))}"
    with tempfile.TemporaryDirectory(prefix="radiodiff-html-shot-") as folder:
        _chromium(chromium, Path(folder) / "profile", [size, f"--screenshot={out.resolve()}", page.resolve().as_uri()])
    if not out.is_file() or out.stat().st_size == 0:
        raise RuntimeError(f"Chromium wrote no screenshot to {out}")
    return out


def verdict(result: dict, expect_images: int | None) -> tuple[bool, list[str]]:
    """Whether the page passes, and the reasons it does not."""
    images = result["images"]
    problems = [f"image {i} ({img['alt']!r}) did not decode" for i, img in enumerate(images) if img["width"] <= 0]
    if not images:
        problems.append("the page has no image")
    if expect_images is not None and len(images) != expect_images:
        problems.append(f"{len(images)} images, expected {expect_images}")
    return not problems, problems


def _chromium(chromium: str, profile: Path, arguments: list[str]) -> str:
    command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *arguments]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"{chromium} exited with {done.returncode}: {done.stderr[-1500:]}")
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    """Probe (and screenshot) one page; print the verdict as JSON; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path, help="the report's HTML file")
    parser.add_argument("--screenshot", type=Path, help="write a full-page PNG screenshot here")
    parser.add_argument("--expect-images", type=int, help="the number of <img> the page must have")
    parser.add_argument("--chromium", default="chromium", help="Chromium executable (default: chromium)")
    args = parser.parse_args(argv)
    chromium = shutil.which(args.chromium)
    if chromium is None:
        print(f"check_report_html: {args.chromium} not found (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    try:
        result = probe(args.html, chromium)
        if args.screenshot:
            screenshot(args.html, args.screenshot, result["height"], chromium)
    except (RuntimeError, subprocess.TimeoutExpired) as err:
        print(f"check_report_html: {err}", file=sys.stderr)
        return 2
    ok, problems = verdict(result, args.expect_images)
    print(json.dumps({"ok": ok, "problems": problems, **result}, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
