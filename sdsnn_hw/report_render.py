"""The report's two renderings: one self-contained HTML page and a Markdown summary."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from typing import Any

# Marks every image once the page has loaded, so a headless browser's DOM dump shows
# whether it decoded (naturalWidth > 0) or is broken.
_CHECK_SCRIPT = """<script>
window.addEventListener("load", function () {
  var images = document.images, ok = 0;
  for (var i = 0; i < images.length; i++) {
    var good = images[i].complete && images[i].naturalWidth > 0;
    images[i].setAttribute("data-rendered", good ? String(images[i].naturalWidth) : "broken");
    if (good) { ok++; }
  }
  document.body.setAttribute("data-images-rendered", ok + "/" + images.length);
});
</script>"""
_STYLE = """<style>
body { font-family: sans-serif; max-width: 1100px; margin: 1em auto; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #bbb; padding: 2px 8px; text-align: right; }
th { background: #eee; } td:first-child, th:first-child { text-align: left; }
.missing { background: #fff3cd; padding: 0.5em; border: 1px solid #e0c97f; }
.note { color: #555; font-style: italic; }
figure { margin: 0.5em 0; } figcaption { color: #555; font-size: 90%; }
img { max-width: 100%; }
</style>"""


@dataclass
class Table:
    headers: list[str]
    rows: list[list[Any]]


@dataclass
class Figure:
    png: bytes
    caption: str


@dataclass
class Section:
    """One part of the report; ``missing`` names what it could not show and why."""

    title: str
    text: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def cell(value: Any) -> str:
    """A table cell: floats to 4 significant digits, thousands separated, None as a dash."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"


def to_html(title: str, sections: list[Section], missing: list[str]) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title>",
        _STYLE,
        "</head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    if missing:
        parts.append('<p class="missing" id="missing"><b>Missing:</b> ' + esc("; ".join(missing)))
        parts.append("</p>")
    for n, section in enumerate(sections):
        parts.append(f'<h2 id="s{n}">{esc(section.title)}</h2>')
        parts += [f"<p>{esc(line)}</p>" for line in section.text]
        for table in section.tables:
            parts.append("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in table.headers))
            for row in table.rows:
                parts.append("<tr>" + "".join(f"<td>{esc(cell(v))}</td>" for v in row) + "</tr>")
            parts.append("</table>")
        for figure in section.figures:
            data = base64.b64encode(figure.png).decode("ascii")
            parts.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{esc(figure.caption)}">'
                f"<figcaption>{esc(figure.caption)}</figcaption></figure>"
            )
        if section.missing:
            parts.append(f'<p class="missing">Not shown: {esc("; ".join(section.missing))}</p>')
    parts += [_CHECK_SCRIPT, "</body></html>", ""]
    return "\n".join(parts)


def to_markdown(title: str, sections: list[Section], missing: list[str], html_name: str) -> str:
    lines = [f"# {title}", ""]
    if missing:
        lines += [f"**Missing:** {'; '.join(missing)}", ""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        for text in section.text:
            lines += [text, ""]
        for table in section.tables:
            lines.append("| " + " | ".join(table.headers) + " |")
            lines.append("|" + "---|" * len(table.headers))
            lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.rows]
            lines.append("")
        for figure in section.figures:
            lines += [f"Figure in {html_name}: {figure.caption}", ""]
        if section.missing:
            lines += [f"Not shown: {'; '.join(section.missing)}", ""]
    return "\n".join(lines)
