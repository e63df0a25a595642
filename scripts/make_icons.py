"""Render the favicon fallbacks from idp/static/img/favicon.svg in Chromium (Playwright), so the
PNGs are reproducible from the one drawing: ``.venv/bin/python scripts/make_icons.py``.

Writes favicon-32.png (browsers without SVG icons) and icon-180.png (home-screen icon, on white
with a margin, as iOS expects). The outputs are committed; run again after changing the SVG.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import sync_playwright

IMG = Path(__file__).resolve().parents[1] / "idp" / "static" / "img"
CHROMIUM = "/usr/bin/chromium"
SIZES = {"favicon-32.png": (32, 0, "transparent"), "icon-180.png": (180, 18, "#ffffff")}


def main() -> None:
    svg = (IMG / "favicon.svg").read_text(encoding="utf-8")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for name, (size, margin, background) in SIZES.items():
            page = browser.new_page(viewport={"width": size, "height": size},
                                    device_scale_factor=1)
            inner = size - 2 * margin
            drawing = svg.replace('width="32" height="32"', f'width="{inner}" height="{inner}"')
            page.set_content(
                f"<html><body style='margin:0;background:{background}'>"
                f"<div style='width:{inner}px;height:{inner}px;margin:{margin}px'>{drawing}"
                "</div></body></html>")
            page.screenshot(path=str(IMG / name), omit_background=background == "transparent")
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
