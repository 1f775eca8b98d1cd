"""HTML pieces and the page: plain strings, every value escaped, nothing fetched.

The page is one file with its style and figures inside (inline SVG), so it opens the
same from a laptop, an e-mail attachment or an air-gapped server.
"""

from __future__ import annotations

import html
import math
import numbers
import time
from dataclasses import dataclass


@dataclass
class Section:
    id: str  # the anchor the table of contents links to
    title: str
    body: str  # HTML


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def number(value, digits: int = 4) -> str:
    """A figure as people read it: 4 decimals, thousands separated, '–' for none."""
    if value is None or isinstance(value, (bool, str)):
        return "–" if value is None else str(value)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    value = float(value)
    if math.isnan(value):
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if 0 < abs(value) < 1e-3:
        return f"{value:.{digits - 2}g}"
    return f"{value:.{digits}f}"


def params_text(params: dict, limit: int = 200) -> str:
    """Hyperparameters on one line, floats to 4 significant digits, cut at `limit` characters."""
    shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                      for k, v in sorted(params.items()))
    return shown if len(shown) <= limit else shown[:limit - 1] + "…"


def table(headers: list[str], rows: list[list], numeric: tuple[int, ...] = ()) -> str:
    """A table; cells are escaped, and columns listed in `numeric` are right-aligned."""
    def cell(tag: str, value, i: int) -> str:
        align = ' class="num"' if i in numeric else ""
        return f"<{tag}{align}>{esc(value)}</{tag}>"

    head = "".join(cell("th", h, i) for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(cell("td", v, i) for i, v in enumerate(row)) + "</tr>"
                   for row in rows)
    return f'<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def pairs(rows: list[tuple[str, object]]) -> str:
    """A two-column table of labelled figures."""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="pairs"><tbody>{body}</tbody></table>'


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def para(text: str) -> str:
    return f"<p>{esc(text)}</p>"


def heading(text: str) -> str:
    return f"<h3>{esc(text)}</h3>"


def figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>"


def pre(text: str) -> str:
    return f"<pre>{esc(text)}</pre>"


STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       max-width: 1040px; margin: 0 auto; padding: 0 20px 60px; }
header { border-bottom: 1px solid #ddd; margin-bottom: 8px; }
nav a { margin-right: 14px; }
h2 { margin-top: 36px; border-bottom: 1px solid #eee; padding-bottom: 4px; }
h3 { margin: 22px 0 6px; font-size: 15px; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 13px; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 3px 10px 3px 0; text-align: left;
         vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.pairs th { font-weight: normal; color: #555; padding-right: 18px; }
td { max-width: 560px; overflow-wrap: anywhere; }
figure { margin: 10px 0 18px; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 12px; }
.note { color: #555; background: #f6f6f6; padding: 6px 10px; border-left: 3px solid #bbb; }
.warning { background: #fff6e5; border-left-color: #e0a030; }
pre { background: #f6f6f6; padding: 10px; overflow-x: auto; font-size: 12px; max-height: 480px; }
"""


def page(title: str, subtitle: str, sections: list[Section]) -> str:
    toc = "".join(f'<a href="#{esc(s.id)}">{esc(s.title)}</a>' for s in sections)
    body = "".join(f'<section id="{esc(s.id)}"><h2>{esc(s.title)}</h2>{s.body}</section>'
                   for s in sections)
    made = time.strftime("%Y-%m-%d %H:%M")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
            f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p><nav>{toc}</nav></header>"
            f"{body}<footer>{note(f'Made by automl report on {made}.')}</footer>"
            "</body></html>\n")
