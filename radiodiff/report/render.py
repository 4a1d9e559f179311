"""A report as a list of blocks (headings, paragraphs, tables, figures), rendered to Markdown and to HTML.

The Markdown links its figures as files (`figures/<name>.png`, written next to it); the HTML is one
standalone page: inline CSS, every figure embedded as a base64 PNG, no script and no external resource.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass

FIGURE_FOLDER = "figures"
NUMBER = re.compile(r"^([-+]?(\d|\.\d)|[-+]?(nan|inf)$)")

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328; margin: 0 auto;
       max-width: 1500px; padding: 24px 32px; line-height: 1.45; background: #fff; }
h1 { font-size: 1.7em; border-bottom: 1px solid #d0d7de; padding-bottom: 6px; }
h2 { font-size: 1.3em; margin-top: 1.8em; border-bottom: 1px solid #eaeef2; padding-bottom: 4px; }
table { border-collapse: collapse; margin: 10px 0 16px; font-size: 0.92em; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 14px 0 22px; }
figure img { max-width: 100%; height: auto; border: 1px solid #eaeef2; }
figcaption { color: #59636e; font-size: 0.9em; margin-top: 4px; }
code { background: #f6f8fa; padding: 1px 4px; border-radius: 4px; font-size: 0.9em; }
"""


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Figure:
    name: str
    """File stem: the Markdown links `figures/<name>.png`."""
    title: str
    png: bytes
    caption: str = ""


Block = Heading | Paragraph | Table | Figure


def figures(blocks: list[Block]) -> dict[str, bytes]:
    """File name -> PNG bytes of every figure block."""
    return {f"{b.name}.png": b.png for b in blocks if isinstance(b, Figure)}


def to_markdown(blocks: list[Block]) -> str:
    """The report as Markdown; figures are links to `figures/<name>.png`."""
    parts = []
    for block in blocks:
        if isinstance(block, Heading):
            parts.append(f"{'#' * block.level} {block.text}")
        elif isinstance(block, Paragraph):
            parts.append(block.text)
        elif isinstance(block, Table):
            parts.append(_markdown_table(block))
        else:
            caption = f"\n\n*{block.caption}*" if block.caption else ""
            parts.append(f"### {block.title}\n\n![{block.title}]({FIGURE_FOLDER}/{block.name}.png){caption}")
    return "\n\n".join(parts) + "\n"


def to_html(blocks: list[Block], title: str) -> str:
    """The report as one standalone HTML page (figures embedded as data URIs)."""
    body = "\n".join(_html_block(block) for block in blocks)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _markdown_table(table: Table) -> str:
    def row(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    lines = [row(table.headers), "| " + " | ".join("---" for _ in table.headers) + " |"]
    return "\n".join([*lines, *(row(r) for r in table.rows)])


def _html_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{html.escape(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        return f"<p>{_inline(block.text)}</p>"
    if isinstance(block, Table):
        return _html_table(block)
    data = base64.b64encode(block.png).decode("ascii")
    caption = f"<figcaption>{_inline(block.caption)}</figcaption>" if block.caption else ""
    return (
        f'<figure id="{html.escape(block.name)}"><h3>{html.escape(block.title)}</h3>'
        f'<img alt="{html.escape(block.title)}" src="data:image/png;base64,{data}">{caption}</figure>'
    )


def _inline(text: str) -> str:
    """Escaped text with Markdown's `code` spans as <code> (the only inline markup the report uses)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _html_table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
    rows = "".join(
        "<tr>" + "".join(f"<td{_cell_class(c)}>{_inline(c)}</td>" for c in row) + "</tr>" for row in table.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _cell_class(cell: str) -> str:
    """Right-align cells that start with a number (`nan`, `inf` too, not words such as `NaN skips`)."""
    return ' class="num"' if NUMBER.match(cell) else ""
